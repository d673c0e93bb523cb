import json

from django.core.management.base import CommandError
from django_redis.cache import RedisCache

from llm.metrics import llm_cache, stats
from tra.commands import OperatorCommand

LOCAL_ONLY = (
    "the LLM cache is in each server process's local memory (REDIS_URL is not set): this command runs in "
    "a process of its own and can neither see nor clear it"
)


class Command(OperatorCommand):
    help = (
        "LLM cache operations on the shared Redis cache (REDIS_URL). `stats`: the shared counters (hits, "
        "misses, calls, tokens, dollars spent and saved). `clear`: drop cached answers, all or one task's "
        "(--task summary|suggestion|chat). Without Redis each server process has its own cache: `clear` "
        "refuses (restart the server to empty it) and `stats` shows only this command's own process."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["stats", "clear"])
        parser.add_argument("--task", help="with clear: only this task's answers")
        parser.add_argument("--dry-run", action="store_true", help="with clear: say what would go")

    def handle(self, *args, action, task, dry_run, **options):
        cache = llm_cache()
        if action == "stats":
            self.stdout.write(json.dumps(stats(), indent=2, sort_keys=True))
            if not isinstance(cache, RedisCache):
                self.note(f"{LOCAL_ONLY}; the server's figures are at /api/llm/stats and /metrics")
            return
        if not isinstance(cache, RedisCache):
            raise CommandError(f"{LOCAL_ONLY}; restart the server to empty it, or set REDIS_URL to share one cache")
        if task:
            pattern = f"llm:{task}:*"
            if dry_run:
                found = sum(1 for _ in cache.iter_keys(pattern))
                self.stdout.write(f"would clear {found} cached {task} answer(s)")
                return
            removed = cache.delete_pattern(pattern)
            self.stdout.write(f"cleared {removed} cached {task} answer(s)")
            return
        if dry_run:
            self.stdout.write("would clear every cached LLM answer and counter")
            return
        cache.delete_pattern("*")  # this cache's key prefix only: FLUSHDB would take other caches too
        self.stdout.write("cleared the LLM cache (answers and counters)")
