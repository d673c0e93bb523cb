"""Local DynamoDB-compatible servers: `server.LocalDynamoServer` starts and stops one
(moto or dynalite); `moto_wsgi` is moto's DynamoDB served by gunicorn."""
