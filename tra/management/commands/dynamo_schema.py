import json

from django.core.management.base import BaseCommand

from tra.dynamo.schema import cloudformation_template, table_definition


class Command(BaseCommand):
    help = "Print the TRA table, generated from the PynamoDB models, as a CloudFormation template (JSON)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--format",
            choices=["cloudformation", "create-table"],
            default="cloudformation",
            help="a CloudFormation template (default) or CreateTable parameters",
        )

    def handle(self, *args, format, **options):
        document = cloudformation_template() if format == "cloudformation" else table_definition()
        self.stdout.write(json.dumps(document, indent=2, sort_keys=False))
