from django.apps import AppConfig

from documents.signals import document_deleting


class AssessmentsConfig(AppConfig):
    name = "assessments"
    verbose_name = "Assessments"

    def ready(self):
        # Documents knows nothing of assessments: assessments joins in through its hooks. Imported
        # here, not at the top: the admin modules load Django's admin and auth models.
        from documents.admin import register_page_panel

        from . import admin, receivers

        # A linked document is evidence in use: deleting it is refused (409) until it is unlinked.
        document_deleting.connect(receivers.refuse_deleting_linked_document, dispatch_uid="assessments.linked")
        register_page_panel(admin.document_usage_panel)
