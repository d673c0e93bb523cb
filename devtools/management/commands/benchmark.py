from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from devtools import benchmark
from devtools.benchmark import report


class Command(BaseCommand):
    help = (
        "Measure the design against the naive one it replaces, in one run, on throwaway local servers "
        "(dynalite for DynamoDB, the fake Bedrock server) and a throwaway database: GSI Query vs Scan at "
        "growing table sizes, batched vs single link writes, pooled vs per-call AWS clients, the LLM cache on "
        "a replayed workload, chat routing on the labelled corpus, and concurrent LLM-bound requests on one "
        "ASGI worker; end to end through uvicorn with a counting proxy before DynamoDB (per-endpoint calls and "
        "units, concurrent identical and distinct summaries, a priced request mix); `make run`'s DynamoDB Local at "
        "growing sizes (restart time, memory, put/get latency; skipped without Java). Writes docs/benchmarks.md "
        "and its SVG chart, and prints the headline ratios."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--sizes", default="1000,10000,100000", help="table sizes in items, comma-separated (default %(default)s)"
        )
        parser.add_argument("--backend", choices=["dynalite", "moto"], default="dynalite")
        parser.add_argument("--link-documents", type=int, default=1_000)
        parser.add_argument("--client-calls", type=int, default=400)
        parser.add_argument("--llm-requests", type=int, default=1_000)
        parser.add_argument("--concurrent-requests", type=int, default=16)
        parser.add_argument("--latency", type=float, default=1.0, help="fake Bedrock seconds per call")
        parser.add_argument("--identical-summaries", type=int, default=100, help="end to end: concurrent, identical")
        parser.add_argument("--distinct-requests", type=int, default=200, help="end to end: concurrent LLM-bound")
        parser.add_argument("--distinct-latency", type=float, default=0.25, help="fake Bedrock seconds, distinct burst")
        parser.add_argument(
            "--local-server-sizes",
            default="1000,100000",
            help="`make run`'s DynamoDB Local: table sizes, comma-separated; empty skips (default %(default)s)",
        )
        parser.add_argument(
            "--local-server-calls", type=int, default=200, help="PutItem/GetItem calls per size (default %(default)s)"
        )
        parser.add_argument(
            "--output", default=str(Path(settings.BASE_DIR) / "docs" / "benchmarks.md"), help="the report to write"
        )

    def handle(self, *args, sizes, backend, output, local_server_sizes, **options):
        try:
            size_list = sorted({int(size) for size in sizes.split(",") if size.strip()})
            local_sizes = sorted({int(size) for size in local_server_sizes.split(",") if size.strip()})
        except ValueError as error:
            raise CommandError(f"--sizes, --local-server-sizes: {error}") from error
        if local_sizes and local_sizes[0] < 1:
            raise CommandError("--local-server-sizes: give table sizes of at least 1 item")
        if not size_list or size_list[0] < 100:
            raise CommandError("--sizes: give table sizes of at least 100 items")
        for name in (
            "link_documents",
            "client_calls",
            "llm_requests",
            "concurrent_requests",
            "identical_summaries",
            "distinct_requests",
            "local_server_calls",
        ):
            if options[name] < 1:
                raise CommandError(f"--{name.replace('_', '-')} must be at least 1")
        opts = benchmark.Options(
            sizes=size_list,
            backend=backend,
            link_documents=options["link_documents"],
            client_calls=options["client_calls"],
            llm_requests=options["llm_requests"],
            concurrent_requests=options["concurrent_requests"],
            latency=options["latency"],
            identical_summaries=options["identical_summaries"],
            distinct_requests=options["distinct_requests"],
            distinct_latency=options["distinct_latency"],
            local_server_sizes=local_sizes,
            local_server_calls=options["local_server_calls"],
        )
        results = benchmark.run(opts, progress=lambda line: self.stderr.write(line))
        written = report.write(results, Path(output))
        for line in report.summary_lines(results):
            self.stdout.write(line)
        self.stdout.write(f"wrote {' and '.join(str(path) for path in written)}")
