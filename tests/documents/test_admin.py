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


def test_a_reviewer_regenerates_a_summary_through_the_llm_path(settings, tmp_path):
    from django.contrib.admin.models import LogEntry

    from documents.models import Document
    from tests.support.api import make_user as user
    from tra.dynamo.writes import batch_write

    document = factories.document(filename="policy.txt", status="extracted")
    text = "All customer data at rest is encrypted with AES-256. Keys rotate every 90 days."
    batch_write(puts=[factories.chunk(document, number=0, text=text, save=False)])
    staff, reviewer = Client(), Client()
    staff.force_login(user("sid", staff=True))
    reviewer.force_login(user("rita", reviewer=True))
    page = f"{LIST}{document.document_id}/"

    assert 'id="regenerate-summary"' not in staff.get(page).content.decode()
    assert staff.post(page).status_code == 403
    response = reviewer.post(page, follow=True)
    assert "Summary regenerated (extractive)" in response.content.decode()
    stored = Document.get(*Document.key(document.document_id))
    assert "AES-256" in stored.summary and stored.status == "summarized"
    assert LogEntry.objects.filter(object_id=document.document_id).count() == 1


def test_the_list_shows_sizes_people_read_and_status_labels(staff_client):
    small = factories.document(filename="tiny.txt", status="extracted", save=False)
    small.size_bytes = 56
    small.save()
    large = factories.document(filename="large.pdf", status="extracted", save=False)
    large.size_bytes = 3 * 1024 * 1024
    large.save()
    content = staff_client.get(LIST).content.decode().replace("\xa0", " ")
    assert "<td>56 bytes</td>" in content and "<td>3.0 MB</td>" in content and "0 KB" not in content
    assert "<td>Extracted</td>" in content
