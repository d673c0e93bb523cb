from django.core.management.base import BaseCommand

from devtools import router_corpus, train_router


class Command(BaseCommand):
    help = (
        "Train the chat router's classifier tier on tests/chat/corpus (training files only) and write "
        "chat/routing/model.json. --corpus first regenerates train.jsonl and heldout.jsonl from the templates."
    )

    def add_arguments(self, parser):
        parser.add_argument("--corpus", action="store_true", help="regenerate the corpus files first")

    def handle(self, *args, corpus, **options):
        if corpus:
            train, heldout = router_corpus.write(progress=self.stdout.write)
            self.stdout.write(f"corpus: {train} training and {heldout} held-out messages")
        train_router.train(progress=self.stdout.write)
