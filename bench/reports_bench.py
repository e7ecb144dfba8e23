"""Time the fallback report of one finished campaign of 1M recipients on PostgreSQL.

Run from the repository root:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/reports .venv/bin/python bench/reports_bench.py

The script creates the database if it is missing, migrates it, and (unless the campaign
already exists) inserts 1M contacts, 1M recipients and their attempts with INSERT ...
SELECT over generate_series. It then prints the time of the first report (which counts
and stores the report cells), of the warm report and of a live count without stored
cells, with the load average. It refuses any database not named "reports" because it
writes a million rows.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from bench.stack import create_database  # noqa: E402 - needs the path above

RECIPIENTS = int(os.environ.get("BENCH_RECIPIENTS", "1000000"))
CAMPAIGN_NAME = f"bench {RECIPIENTS} recipients"
RUNS = 20

# Outcome of a recipient by (id mod 100); the shares of a campaign with heavy fallback.
OUTCOMES_SQL = """
CASE
  WHEN n < 5 THEN 'skipped'
  WHEN n < 13 THEN 'direct_delivered'
  WHEN n < 15 THEN 'direct_failed'
  WHEN n < 65 THEN 'whatsapp_delivered'
  WHEN n < 85 THEN 'recovered'
  WHEN n < 90 THEN 'failed_both'
  WHEN n < 96 THEN 'failed_whatsapp'
  WHEN n < 98 THEN 'delivered_both'
  ELSE 'cancelled'
END
"""


def main() -> None:
    url = os.environ.get("DATABASE_URL", "")
    if urlsplit(url).path.strip("/") != "reports":
        sys.exit(
            "Set DATABASE_URL to a PostgreSQL database named reports, e.g. "
            "postgres://postgres@127.0.0.1:5432/reports"
        )
    create_database(url)

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    campaign = _campaign()
    _analyze()
    _time_reports(campaign)


def _campaign():
    from django.db import transaction

    # One transaction, so an interrupted run leaves no campaign without recipients.
    with transaction.atomic():
        return _find_or_create_campaign()


def _find_or_create_campaign():
    from campaigns.models import Agency, Campaign, SubAccount, Template

    existing = Campaign.objects.filter(name=CAMPAIGN_NAME).first()
    if existing is not None:
        return existing
    agency, _ = Agency.objects.get_or_create(name="Bench agency")
    sub_account, _ = SubAccount.objects.get_or_create(
        agency=agency, name=f"Bench client {RECIPIENTS}"
    )
    template, _ = Template.objects.get_or_create(
        sub_account=sub_account, name="bench", defaults={"category": "MARKETING", "body": "Hi"}
    )
    campaign = Campaign.objects.create(
        sub_account=sub_account,
        name=CAMPAIGN_NAME,
        template=template,
        status="completed",
        fallback_text="Hi, our sale is on.",
    )
    started = time.perf_counter()
    _insert_rows(campaign.pk, sub_account.pk)
    print(f"inserted {RECIPIENTS} recipients in {time.perf_counter() - started:.1f} s")
    return campaign


def _insert_rows(campaign_id: int, sub_account_id: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO campaigns_contact (sub_account_id, phone, first_name, last_name, email,
              country, tags, whatsapp_opt_out_source, sms_opt_out_source, line_type,
              created_at, updated_at)
            SELECT %s, '+4474' || lpad(i::text, 8, '0'), '', '', '',
              (ARRAY['GB','US','DE','IN','BR'])[1 + i %% 5], '[]', '', '', 'unknown',
              now() - interval '8 days', now() - interval '8 days'
            FROM generate_series(1, %s) AS i
            """,
            [sub_account_id, RECIPIENTS],
        )
        cursor.execute(
            f"""
            INSERT INTO campaigns_recipient (campaign_id, contact_id, phone, country, route,
              status, reason, fallback_triggered, delivered_both, updated_at, finished_at)
            SELECT %s, c.id, c.phone, c.country,
              CASE WHEN o LIKE 'direct%%' THEN 'direct_sms' WHEN o = 'skipped' THEN 'none'
                   ELSE 'whatsapp' END,
              CASE o WHEN 'skipped' THEN 'skipped' WHEN 'direct_delivered' THEN 'delivered_sms'
                WHEN 'direct_failed' THEN 'failed_both' WHEN 'whatsapp_delivered'
                THEN 'delivered_whatsapp' WHEN 'recovered' THEN 'delivered_sms'
                WHEN 'failed_both' THEN 'failed_both' WHEN 'failed_whatsapp'
                THEN 'failed_whatsapp' WHEN 'delivered_both' THEN 'delivered_sms'
                ELSE 'cancelled' END,
              CASE o WHEN 'skipped' THEN 'invalid_number' WHEN 'failed_both'
                THEN '131026/30006' WHEN 'failed_whatsapp' THEN '131051' ELSE '' END,
              o IN ('recovered', 'failed_both', 'delivered_both'),
              o = 'delivered_both',
              now() - interval '1 day',
              now() - interval '1 day' - (c.id %% 7) * interval '1 day'
            FROM (SELECT id, phone, country, {OUTCOMES_SQL} AS o
                  FROM (SELECT id, phone, country, id %% 100 AS n FROM campaigns_contact
                        WHERE sub_account_id = %s) AS numbered) AS c
            """,
            [campaign_id, sub_account_id],
        )
        _insert_attempts(cursor, campaign_id)


def _insert_attempts(cursor, campaign_id: int) -> None:
    whatsapp = """
        INSERT INTO messaging_deliveryattempt (recipient_id, channel, status,
          provider_message_id, tries, error_code, error_title, error_detail, created_at,
          updated_at)
        SELECT id, 'whatsapp',
          CASE WHEN status = 'delivered_whatsapp' OR delivered_both THEN 'read' ELSE 'failed' END,
          '', 1,
          CASE WHEN status = 'delivered_whatsapp' THEN '' WHEN reason = '131051' THEN '131051'
               ELSE '131026' END,
          '', '', finished_at, finished_at
        FROM campaigns_recipient WHERE campaign_id = %s AND route = 'whatsapp'
          AND status <> 'cancelled'
    """
    sms = """
        INSERT INTO messaging_deliveryattempt (recipient_id, channel, status,
          provider_message_id, tries, error_code, error_title, error_detail, segments,
          created_at, updated_at)
        SELECT id, 'sms', CASE WHEN status = 'failed_both' THEN 'failed' ELSE 'delivered' END,
          '', 1, CASE WHEN status = 'failed_both' THEN '30006' ELSE '' END, '', '',
          1 + id %% 2, finished_at, finished_at
        FROM campaigns_recipient WHERE campaign_id = %s
          AND (route = 'direct_sms' OR fallback_triggered)
    """
    cursor.execute(whatsapp, [campaign_id])
    cursor.execute(sms, [campaign_id])


def _analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _time_reports(campaign) -> None:
    from campaigns.models import Recipient
    from reports import cells
    from reports.figures import campaign_figures

    started = time.perf_counter()
    cells.refresh(campaign)
    first = time.perf_counter() - started

    warm = []
    for _ in range(RUNS):
        started = time.perf_counter()
        report = campaign_figures(campaign)
        warm.append(time.perf_counter() - started)
    by_day = []
    for _ in range(RUNS):
        started = time.perf_counter()
        campaign_figures(campaign, by="day")
        by_day.append(time.perf_counter() - started)

    started = time.perf_counter()
    cells.count_cells(Recipient.objects.filter(campaign=campaign))
    live = time.perf_counter() - started

    total = report.total
    print(
        f"recipients: {total['targeted']}, WhatsApp attempted: {total['whatsapp_attempted']}, "
        f"fallback triggered: {total['fallback_triggered']}, "
        f"fallback rate: {total.fallback_rate:.4f}"
    )
    print(f"count and store cells (first report): {first * 1000:.0f} ms")
    print(
        f"fallback report, stored cells: median {statistics.median(warm) * 1000:.1f} ms, "
        f"max {max(warm) * 1000:.1f} ms over {RUNS} runs"
    )
    print(
        f"same, grouped by day: median {statistics.median(by_day) * 1000:.1f} ms, "
        f"max {max(by_day) * 1000:.1f} ms"
    )
    print(f"live count without stored cells: {live * 1000:.0f} ms")
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
