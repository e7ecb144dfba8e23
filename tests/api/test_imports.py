"""CSV imports as jobs: queued, run by a real RQ worker, row errors reported."""

import io

import pytest

from campaigns.models import Contact
from tests.factories import SubAccountFactory

pytestmark = pytest.mark.django_db(transaction=True)

IMPORTS = "/api/v1/contact-imports/"
CSV = b"Phone,First Name,Tags\n+447400123456,Ana,vip\nnot a number,Bo,\n"


def upload(api, content=CSV, **extra):
    file = io.BytesIO(content)
    file.name = "contacts.csv"
    return api.post(IMPORTS, {"file": file, **extra}, format="multipart", **{})


def test_import_is_accepted_as_job(api):
    response = upload(api)
    assert (response.status_code, response.json()["status"]) == (202, "queued")


def test_import_job_creates_contacts(api, sub_account, run_jobs):
    upload(api)
    run_jobs()
    assert list(
        Contact.objects.filter(sub_account=sub_account).values_list("phone", flat=True)
    ) == ["+447400123456"]


def test_import_reports_row_errors(api, run_jobs):
    job = upload(api).json()
    run_jobs()
    done = api.get(f"{IMPORTS}{job['id']}/").json()
    assert [error["row"] for error in done["row_errors"]] == [3]


def test_import_names_ignored_columns(api, run_jobs):
    job = upload(api, content=b"Mobile,Name,Mail\n+447400123456,Ana,ana@example.com\n").json()
    run_jobs()
    done = api.get(f"{IMPORTS}{job['id']}/").json()
    assert done["ignored_columns"] == ["Name", "Mail"]


def test_unreadable_file_fails_with_reason(api, run_jobs):
    job = upload(api, content=b"Name\nAna\n").json()
    run_jobs()
    done = api.get(f"{IMPORTS}{job['id']}/").json()
    assert done["status"] == "failed"
    assert "no phone column" in done["error"]


def test_other_sub_account_import_is_404(api, run_jobs):
    from campaigns.models import ContactImport

    job = ContactImport.objects.create(sub_account=SubAccountFactory())
    assert api.get(f"{IMPORTS}{job.pk}/").status_code == 404
