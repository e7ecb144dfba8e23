"""RQ job that runs a queued contact import and stores its outcome."""

import io
import logging

from django.db import transaction
from django.utils import timezone

from campaigns.contact_import import ImportFileError, RejectedRow, import_contacts
from campaigns.models import ContactImport, ImportStatus

logger = logging.getLogger(__name__)


def run_contact_import(import_id: int) -> None:
    with transaction.atomic():
        claimed = ContactImport.objects.filter(pk=import_id, status=ImportStatus.QUEUED).update(
            status=ImportStatus.RUNNING
        )
    if not claimed:
        logger.info("contact import %s is not queued; skipped", import_id)
        return
    job = ContactImport.objects.select_related("sub_account").get(pk=import_id)
    source = io.BytesIO(bytes(job.content))
    source.name = job.file_name
    try:
        result = import_contacts(job.sub_account, source, default_region=job.default_region or None)
    except ImportFileError as error:
        job.status = ImportStatus.FAILED
        job.error = str(error)
    else:
        job.status = ImportStatus.DONE
        job.created = result.created
        job.updated = result.updated
        job.whatsapp_opt_outs = result.whatsapp_opt_outs
        job.sms_opt_outs = result.sms_opt_outs
        rows = sorted(result.rejected_rows + result.duplicate_rows, key=lambda r: r.row_number)
        job.row_errors = [_row_error(row) for row in rows]
        job.ignored_columns = result.ignored_columns
    # The file is no longer needed, and contact data should not linger in it.
    job.content = b""
    job.finished_at = timezone.now()
    job.save()
    logger.info("contact import %s %s", import_id, job.status)


def _row_error(row: RejectedRow) -> dict[str, object]:
    return {"row": row.row_number, "column": row.column, "value": row.value, "reason": row.reason}
