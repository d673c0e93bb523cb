"""Local DynamoDB-compatible servers: `server.LocalDynamoServer` starts and stops one
(DynamoDB Local, moto or dynalite); `moto_wsgi` is moto's DynamoDB served by gunicorn;
`gated_uvicorn` is `make run`'s uvicorn, which loads the app while DynamoDB Local starts."""
