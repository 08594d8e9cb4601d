"""How the demo seed writes: names, owners and the `Seeder` that creates contacts with their
history, engagements and tasks through the store (the scenario table is in `sandbox.seed`)."""

from __future__ import annotations

import random
from collections.abc import Callable

from sandbox.rollups import counts_as_contacted
from sandbox.schema import (
    CONTACT_TO_DEAL,
    DEAL_TO_CONTACT,
    ENGAGEMENT_TO_CONTACT,
    LIFECYCLE_ORDER,
    STAGE_DATE,
)
from sandbox.store import Store
from sandbox.tables import iso

BASE_CONTACTS = 300
RNG_SEED = 20_261_123
HOUR = 3_600_000
DAY = 24 * HOUR
CONNECTED = "f240bbac-87c9-4f6e-bf70-924b57d47db7"
NO_ANSWER = "73a0d17f-1163-4015-bdd5-ec830791da20"
OWNERS = (
    ("70000001", "alice@example.com", "Alice", "Archer", False),
    ("70000002", "bob@example.com", "Bob", "Baker", False),
    ("70000003", "chloe@example.com", "Chloé", "Dubois", False),
    ("70000004", "dan@example.com", "Dan", "Departed", True),
    ("70000005", None, "Eve", "Noemail", False),
)
ACTIVE_OWNERS = ("70000001", "70000002", "70000003")
ARCHIVED_OWNER, NO_EMAIL_OWNER = "70000004", "70000005"
FIRST = (
    "Ada",
    "Ben",
    "Cleo",
    "Dev",
    "Ema",
    "Finn",
    "Gia",
    "Hugo",
    "Iris",
    "Jon",
    "Kai",
    "Lena",
    "Mo",
    "Nia",
    "Otto",
    "Pia",
    "Quinn",
    "Rosa",
    "Sam",
    "Tara",
)
LAST = (
    "Novak",
    "Okafor",
    "Silva",
    "Tanaka",
    "Meyer",
    "Rossi",
    "Kowalski",
    "Haddad",
    "Nguyen",
    "Larsen",
    "Moreau",
    "Fischer",
    "Costa",
    "Ivanova",
    "Byrne",
    "Sato",
)
COMPANIES = ("Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Tyrell")
INTERESTS = ("analytics", "crm", "payments", None)
ODD_NAMES = (
    ("Zoë 🚀", "Ünïcode"),
    ("<b>Bold</b>", "& <i>Co</i>"),
    ("Maximilian" * 15, "Long" * 40),
)


class Seeder:
    """Builds records straight into a store (trusted values, no validation)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.t = store.anchor_ms
        self.rng = random.Random(RNG_SEED)
        self.owner_turn = 0

    def ago(self, days: float, jitter_hours: float = 0) -> int:
        """T minus `days`, minus up to `jitter_hours` (deterministic), in whole minutes.

        Whole minutes keep the number of distinct timestamp strings small (they are shared).
        """
        at = self.t - int(days * DAY) - int(self.rng.random() * jitter_hours * HOUR)
        return at - at % 60_000

    def next_owner(self) -> str:
        self.owner_turn += 1
        return ACTIVE_OWNERS[self.owner_turn % len(ACTIVE_OWNERS)]

    def contact(
        self,
        stage: str,
        status: str | None = None,
        *,
        owner: str | None = "rotate",
        status_at: int | None = None,
        created_days: float = 40,
        **extra: str | None,
    ) -> int:
        """A contact with its stage path and lead status in history; returns its id."""
        store, rng = self.store, self.rng
        created = self.ago(created_days, 24 * 10)
        index = store.tables["contacts"].next_id
        first, last = rng.choice(FIRST), rng.choice(LAST)
        props: dict[str, str] = {
            "firstname": first,
            "lastname": last,
            "email": f"{first}.{last}.{index}@example.com".lower(),
            "company": rng.choice(COMPANIES),
            "hs_sequences_is_enrolled": "false",
            "num_associated_deals": "0",
        }
        if owner == "rotate":
            owner = self.next_owner()
        if owner:
            props["hubspot_owner_id"] = owner
        props.update({k: v for k, v in extra.items() if v is not None})
        record = store.insert("contacts", props, created)
        # Stage path: one version per stage up to the current one.
        if stage in LIFECYCLE_ORDER:
            path = LIFECYCLE_ORDER[: LIFECYCLE_ORDER.index(stage) + 1]
        else:
            path = ("lead", stage)
        sql_at = status_at - HOUR if status_at else None
        for step, name in enumerate(path):
            at = created + step * HOUR
            if name == "salesqualifiedlead" and sql_at:
                at = min(sql_at, max(at, created))
            if name in STAGE_DATE:
                props[STAGE_DATE[name]] = iso(at)
            record.add_history("lifecyclestage", name, at, "CRM_UI" if step else "IMPORT")
        props["lifecyclestage"] = stage
        if status:
            props["hs_lead_status"] = status
            if status_at:
                record.add_history("hs_lead_status", status, status_at, "CRM_UI")
        record.updated = max(v[1] for versions in (record.history or {}).values() for v in versions)
        return record.id

    def set_status(self, contact_id: int, status: str, at: int) -> None:
        """A later lead-status change (e.g. NEW -> ATTEMPTED_TO_CONTACT)."""
        record = self.store.tables["contacts"].records[contact_id]
        record.props["hs_lead_status"] = status
        record.add_history("hs_lead_status", status, at, "CRM_UI")
        record.updated = max(record.updated, at)

    def engagement(self, kind: str, contact_id: int, at: int, props: dict[str, str]) -> int:
        owner = self.store.tables["contacts"].records[contact_id].props.get("hubspot_owner_id")
        full = {"hs_timestamp": iso(at), **props}
        if owner:
            full["hubspot_owner_id"] = owner
        record = self.store.insert(kind, full, at)
        type_id = ENGAGEMENT_TO_CONTACT[kind]
        self.store.associate(kind, record.id, "contacts", contact_id, type_id, type_id - 1)
        self._rollup(kind, contact_id, at, props)
        return record.id

    def _rollup(self, kind: str, contact_id: int, at: int, props: dict[str, str]) -> None:
        """Keep the contact's activity roll-ups consistent with its engagements."""
        contact = self.store.tables["contacts"].records[contact_id].props
        if kind == "tasks" or at > self.t:
            return
        stamp = iso(at)
        if contact.get("notes_last_updated", "") < stamp:
            contact["notes_last_updated"] = stamp
            contact["hs_last_sales_activity_timestamp"] = stamp
        if counts_as_contacted(kind, props):
            contact["num_contacted_notes"] = str(int(contact.get("num_contacted_notes", "0")) + 1)
            if contact.get("notes_last_contacted", "") < stamp:
                contact["notes_last_contacted"] = stamp
        if (
            props.get("hs_email_direction") == "INCOMING_EMAIL"
            and contact.get("hs_sales_email_last_replied", "") < stamp
        ):
            contact["hs_sales_email_last_replied"] = stamp

    def email(
        self, contact_id: int, at: int, direction: str = "EMAIL", status: str = "SENT"
    ) -> int:
        return self.engagement(
            "emails",
            contact_id,
            at,
            {
                "hs_email_direction": direction,
                "hs_email_status": status,
                "hs_email_subject": "Re: your demo request"
                if direction != "EMAIL"
                else "Quick intro",
            },
        )

    def call(
        self, contact_id: int, at: int, direction: str = "OUTBOUND", disposition: str = NO_ANSWER
    ) -> int:
        status = "COMPLETED" if disposition == CONNECTED else "NO_ANSWER"
        return self.engagement(
            "calls",
            contact_id,
            at,
            {
                "hs_call_direction": direction,
                "hs_call_status": status,
                "hs_call_disposition": disposition,
                "hs_call_title": "Intro call",
            },
        )

    def meeting(
        self,
        contact_id: int,
        at: int,
        outcome: str | None = "COMPLETED",
        booked: int | None = None,
    ) -> int:
        """A meeting starting at `at` (30 min), booked (`hs_createdate`) at `booked` or `at`."""
        props = {
            "hs_meeting_start_time": iso(at),
            "hs_meeting_end_time": iso(at + HOUR // 2),
            "hs_meeting_title": "Discovery",
        }
        if outcome:
            props["hs_meeting_outcome"] = outcome
        meeting_id = self.engagement("meetings", contact_id, at, props)
        if booked is not None:
            self.store.tables["meetings"].records[meeting_id].created = booked
        return meeting_id

    def deal(self, contact_id: int, stage: str, pipeline: str = "default") -> int:
        """A deal in `stage` of `pipeline`, associated with the contact (types 4 / 3)."""
        contact = self.store.tables["contacts"].records[contact_id].props
        props = {"dealname": f"{contact.get('company', 'Acme')} deal", "pipeline": pipeline}
        props |= {"dealstage": stage, "amount": "12000"}
        if contact.get("hubspot_owner_id"):
            props["hubspot_owner_id"] = contact["hubspot_owner_id"]
        record = self.store.insert("deals", props, self.ago(5))
        self.store.associate(
            "contacts", contact_id, "deals", record.id, CONTACT_TO_DEAL, DEAL_TO_CONTACT
        )
        contact["num_associated_deals"] = str(
            len(self.store.associated("contacts", contact_id, "deals"))
        )
        return record.id

    def task(
        self, contact_id: int, due: int, subject: str, body: str, status: str = "NOT_STARTED"
    ) -> int:
        return self.engagement(
            "tasks",
            contact_id,
            due,
            {
                "hs_task_subject": subject,
                "hs_task_body": body,
                "hs_task_status": status,
                "hs_task_priority": "HIGH",
                "hs_task_type": "CALL",
            },
        )

    def touches(
        self, contact_id: int, count: int, last_days: float, spacing_days: float = 1.0
    ) -> None:
        """`count` outbound touches (alternating call / email), the last `last_days` ago."""
        for n in range(count):
            at = self.ago(last_days + (count - 1 - n) * spacing_days)
            if n % 2:
                self.email(contact_id, at)
            else:
                self.call(contact_id, at)


Builder = Callable[[Seeder, int], None]
