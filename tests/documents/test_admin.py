"""Admin pages for documents: index-backed lists, the document page, downloads."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client

from tests.support import factories
from tests.support.api import make_user
from tra.dynamo.metering import meter

pytestmark = [pytest.mark.usefixtures("dynamo_table"), pytest.mark.django_db]
LIST = "/admin/dynamo/documents/"


@pytest.fixture
def staff_client():
    client = Client()
    client.force_login(make_user("sam", staff=True))
    return client


def test_the_status_filter_is_an_index_query(staff_client):
    factories.document(filename="ready.pdf", status="extracted")
    factories.document(filename="waiting.pdf", status="uploaded")
    meter.reset()
    content = staff_client.get(LIST, {"status": "extracted"}).content.decode()
    assert "ready.pdf" in content and "waiting.pdf" not in content
    assert meter.calls("Query", "by_status") == 1
    everything = staff_client.get(LIST).content.decode()
    assert "ready.pdf" in everything and "waiting.pdf" in everything
    assert meter.calls("Query", "by_type") == 1
    assert meter.calls("Scan") == 0


def test_the_document_page_shows_its_summary_and_the_assessments_using_it(staff_client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    document = factories.document(filename="soc2.pdf", status="summarized")
    document.summary = "The vendor encrypts data at rest."
    document.storage_key = default_storage.save("documents/1/soc2.pdf", ContentFile(b"%PDF-1.4 test"))
    document.save()
    assessment = factories.assessment(title="Acme Cloud")
    factories.link(assessment, document)

    page = staff_client.get(f"{LIST}{document.document_id}/").content.decode()
    assert "The vendor encrypts data at rest." in page
    assert "Acme Cloud" in page
    download = staff_client.get(f"{LIST}{document.document_id}/download/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF-1.4 test"


def test_an_unknown_document_is_404(staff_client):
    assert staff_client.get(f"{LIST}nope/").status_code == 404
