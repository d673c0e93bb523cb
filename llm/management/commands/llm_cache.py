import json

from django.core.management.base import BaseCommand, CommandError
from django_redis.cache import RedisCache

from llm.metrics import llm_cache, stats


class Command(BaseCommand):
    help = (
        "LLM cache operations. `stats`: the shared counters (hits, misses, calls, tokens, dollars spent "
        "and saved). `clear`: drop cached answers, all or one task's (--task summary|suggestion|chat)."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["stats", "clear"])
        parser.add_argument("--task", help="with clear: only this task's answers (needs Redis)")
        parser.add_argument("--dry-run", action="store_true", help="with clear: say what would go")

    def handle(self, *args, action, task, dry_run, **options):
        if action == "stats":
            self.stdout.write(json.dumps(stats(), indent=2, sort_keys=True))
            return
        cache = llm_cache()
        if task:
            if not isinstance(cache, RedisCache):
                raise CommandError("--task needs the Redis cache (REDIS_URL); without it, clear everything")
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
        if isinstance(cache, RedisCache):
            cache.delete_pattern("*")  # this cache's key prefix only: FLUSHDB would take other caches too
        else:
            cache.clear()
        self.stdout.write("cleared the LLM cache (answers and counters)")
