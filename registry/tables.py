"""Piccolo tables. History is never deleted: every foreign key is ON DELETE RESTRICT."""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    BigInt,
    Boolean,
    Bytea,
    Date,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from registry.vocab import ChangeKind, EditionStatus, Level, Role


class Department(Table):
    """实施主体: a city-level department or a district-level unit (区, 县, 开发区)."""

    code = Varchar(length=32, unique=True, index=True)
    name = Varchar(length=200)
    short_name = Varchar(length=100)
    level = Varchar(length=16, choices=Level, index=True)
    kind = Varchar(length=16)
    region = Varchar(length=100)
    # A development zone run by the same administration as a district (一套班子、两块牌子).
    shares_administration_with = Varchar(length=32, null=True, default=None)
    position = Integer(default=0)


class User(Table, tablename="staff_user"):
    """A member of staff: editors keep their departments' items, reviewers approve, admins manage."""

    username = Varchar(length=64, unique=True, index=True)
    display_name = Varchar(length=100)
    role = Varchar(length=16, choices=Role)
    password_hash = Varchar(length=255)
    active = Boolean(default=True)
    created_at = Timestamptz()


class UserDepartment(Table):
    """The departments an editor may edit."""

    user = ForeignKey(references=User, on_delete=OnDelete.restrict, index=True)
    department = ForeignKey(references=Department, on_delete=OnDelete.restrict)


class ApiToken(Table):
    """A bearer token for the staff API; only its SHA-256 is stored."""

    user = ForeignKey(references=User, on_delete=OnDelete.restrict, index=True)
    token_hash = Varchar(length=64, unique=True, index=True)
    name = Varchar(length=100, default="")
    created_at = Timestamptz()
    revoked = Boolean(default=False)


class StaffSession(Table):
    """A signed-in browser. The cookie holds a random id; only its SHA-256 is stored, so the table
    does not hand out sessions. Created at login only (anonymous visitors have none), deleted at
    logout; expired rows are removed as logins happen."""

    id_hash = Varchar(length=64, unique=True, index=True)
    user = ForeignKey(references=User, on_delete=OnDelete.restrict, index=True)
    created_at = Timestamptz()
    expires_at = BigInt(index=True)  # Unix seconds: compared the same way on SQLite and PostgreSQL


class LoginThrottle(Table):
    """Failed-login counter per user and client address, shared by every app server.

    Counted with one upsert (`INSERT … ON CONFLICT DO UPDATE … RETURNING`), so concurrent guesses
    cannot read the same count."""

    key = Varchar(length=255, unique=True, index=True)
    failures = Integer(default=0)
    expires_at = BigInt(index=True)  # Unix seconds; the window restarts after it


class LegalDocument(Table):
    """设定依据: a law, regulation, rule or normative document."""

    code = Varchar(length=64, unique=True, index=True)
    title = Varchar(length=300)
    kind = Varchar(length=16)
    issuer = Varchar(length=200)
    number = Varchar(length=200)
    promulgated_on = Date(null=True, default=None)
    effective_on = Date(null=True, default=None)
    # Recorded by an admin (registry.laws): the date of a new version, or of the repeal.
    amended_on = Date(null=True, default=None)
    repealed_on = Date(null=True, default=None)
    revision = Integer(default=0)  # moves with every recorded change (public caches' head)


class Material(Table):
    """申请材料目录: a material defined once and used by many items."""

    code = Varchar(length=64, unique=True, index=True)
    name = Varchar(length=200, unique=True)
    kind = Varchar(length=16)
    issuer = Varchar(length=200, default="")
    issuer_department = ForeignKey(
        references=Department, on_delete=OnDelete.restrict, null=True, default=None
    )
    # Retired entries stay (published guides refer to them) but are no longer offered; a merged
    # entry names the one it was merged into (registry.catalogue).
    retired = Boolean(default=False)
    merged_into = Varchar(length=64, default="")
    revision = Integer(default=0)  # moves with every rename, retirement or merge


class ServiceItem(Table):
    """政务服务事项: a stable code, never reused, never deleted (withdrawn instead)."""

    code = Varchar(length=40, unique=True, index=True)
    department = ForeignKey(references=Department, on_delete=OnDelete.restrict, index=True)
    item_type = Varchar(length=16)
    # The id of the edition the public sees now. A plain integer, not a foreign key: Edition
    # already references ServiceItem, and Piccolo's migrations cannot order a cycle.
    current_edition = Integer(null=True, default=None, index=True)
    withdrawn = Boolean(default=False)
    created_at = Timestamptz()
    # Freshness (registry.freshness): the last review (a publication or "reviewed, no change"),
    # when the next one is due, and why it is wanted sooner (a cited document amended or repealed).
    reviewed_on = Date(null=True, default=None)
    review_by = Date(null=True, default=None, index=True)
    review_flag = Text(default="")


class Edition(Table):
    """版本: one version of an item's guide content."""

    item = ForeignKey(references=ServiceItem, on_delete=OnDelete.restrict, index=True)
    version = Integer()
    status = Varchar(length=16, choices=EditionStatus, index=True)
    name = Varchar(length=200)
    statutory_days = Integer(default=0)
    promised_days = Integer(default=0)
    trips = Integer(default=1, index=True)
    trips_reason = Text(default="")
    online_depth = Integer(default=0)
    effective_at = Date()
    change_note = Text(default="")
    withdraw = Boolean(default=False)  # this edition withdraws the item when published
    editor = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True, default=None)
    reviewer = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True, default=None)
    send_back_reason = Text(default="")
    created_at = Timestamptz()
    updated_at = Timestamptz(null=True, default=None)
    submitted_at = Timestamptz(null=True, default=None)
    approved_at = Timestamptz(null=True, default=None)
    publish_deadline = Timestamptz(null=True, default=None)
    held = Boolean(default=False)
    published_at = Timestamptz(null=True, default=None)
    # Set at publication: the Guide snapshot's canonical JSON and its SHA-256.
    snapshot = Text(null=True, default=None)
    fingerprint = Varchar(length=64, null=True, default=None)
    lock_version = Integer(default=1)
    # The whole content (registry.editions.schema.EditionContent, as JSON); some fields are
    # also columns above for indexed reads (registry.editions.store.PROJECTED).
    content = JSON(default={})
    # Everyone who saved content into this edition: none of them may approve it (four eyes).
    contributors = JSON(default=[])


class EditionMaterial(Table):
    """An edition's reference to a catalogue material, in order (the use itself — form, copies,
    condition — is in Edition.content; its source and waivability are repeated here). The
    database refuses a reference to no material."""

    edition = ForeignKey(references=Edition, on_delete=OnDelete.restrict, index=True)
    material = ForeignKey(references=Material, on_delete=OnDelete.restrict, index=True)
    position = Integer()
    # Also in Edition.content: here so the 减证 report is one indexed join.
    source = Varchar(length=16, default="")  # 来源渠道
    waivable = Boolean(default=False)  # 可免提交


class Citation(Table):
    """An edition's reference to a legal document, in order, with the articles cited."""

    edition = ForeignKey(references=Edition, on_delete=OnDelete.restrict, index=True)
    document = ForeignKey(references=LegalDocument, on_delete=OnDelete.restrict, index=True)
    position = Integer()
    articles = Text(default="")  # also in Edition.content: here so /laws is one indexed join


class Window(Table):
    """窗口: a counter in a service hall whose screen shows a list of guides."""

    code = Varchar(length=40, unique=True, index=True)
    name = Varchar(length=100)
    hall = Varchar(length=100, default="")
    interval_seconds = Integer(default=20)  # how long each guide stays on screen
    created_at = Timestamptz()


class WindowItem(Table):
    """The guides a window's screen shows, in order."""

    window = ForeignKey(references=Window, on_delete=OnDelete.restrict, index=True)
    item = ForeignKey(references=ServiceItem, on_delete=OnDelete.restrict)
    position = Integer(default=0)


class ScreenCheckin(Table):
    """The last time each window's screen asked for its content, and what it was showing."""

    window = ForeignKey(references=Window, on_delete=OnDelete.restrict, unique=True)
    seen_at = Timestamptz()
    state = Varchar(length=64, default="")  # the screen's content tag (hash of its fingerprints)
    client = Varchar(length=200, default="")


class Target(Table):
    """A 最多跑一次 target: `percent` of a level's items need at most one trip by `deadline`.

    Data, not code: seeded from seeds/targets.toml, editable by admins. For the city level the
    target applies to the city-level departments together; for the district level, to each
    district-level unit.
    """

    level = Varchar(length=16, choices=Level)
    percent = Integer()
    deadline = Date()
    note = Text(default="")


class ChangeRecord(Table):
    """变更记录: one published change, in an append-only, hash-chained log.

    No code path updates or deletes a row; `onetrip verify-log` recomputes the chain.
    """

    seq = Integer(unique=True, index=True)
    item = ForeignKey(references=ServiceItem, on_delete=OnDelete.restrict, index=True)
    item_code = Varchar(length=40)
    kind = Varchar(length=16, choices=ChangeKind)
    version_before = Integer(null=True, default=None)
    version_after = Integer()
    diff = JSON(default=[])
    summary = Text(default="")
    change_note = Text(default="")
    editor = Varchar(length=64, default="")
    reviewer = Varchar(length=64, default="")
    approved_at = Timestamptz()
    publish_deadline = Timestamptz()
    published_at = Timestamptz()
    effective_at = Date()
    fingerprint = Varchar(length=64)
    prev_hash = Varchar(length=64)
    hash = Varchar(length=64, unique=True)


class QualityFinding(Table):
    """A named check's finding on an item's current guide (registry.quality), kept in step with
    every publication so the staff pages count them with one indexed aggregate. Staleness is not
    stored: it is read from ServiceItem.reviewed_on on the day asked."""

    item = Integer(index=True)
    department = Integer(index=True)
    code = Varchar(length=8)
    severity = Varchar(length=8)
    field = Varchar(length=100, default="")
    message = Text(default="")


class SearchEntry(Table):
    """The search index: one row per current, not withdrawn item (registry.search.index).

    The `*_tokens` columns hold words computed in Python (jieba, pinyin); the engines index them:
    an FTS5 table `search_fts` on SQLite, generated `tsvector` columns with GIN indexes on
    PostgreSQL (both made by raw SQL in the migration). The other columns are what filters and
    result lists need, so a search never reads an edition."""

    item = Integer(unique=True)
    code = Varchar(length=40, index=True)
    department = Integer(index=True)
    department_code = Varchar(length=32)
    department_name = Varchar(length=200)
    level = Varchar(length=16)
    item_type = Varchar(length=16)
    person = Boolean(default=False)  # audience 自然人
    organisation = Boolean(default=False)  # audience 法人 or 其他组织
    trips = Integer(default=1)
    online_depth = Integer(default=0)
    promised_days = Integer(default=0)
    name = Varchar(length=200)
    summary = Text(default="")
    name_tokens = Text(default="")
    summary_tokens = Text(default="")
    body_tokens = Text(default="")
    grams = Text(default="")


class SearchSynonym(Table):
    """What citizens type and what it means: `term` (身份证, 开个体户, 驾照 …) expands to each of
    `means` (one or more item-name words, separated by "|"). kind "ignore": a filler word removed
    from queries (怎么, 办理 …). Seeded from seeds/synonyms.toml; admins edit them."""

    term = Varchar(length=100, unique=True)
    means = Text(default="")
    kind = Varchar(length=16, default="synonym")
    changed_at = Timestamptz()


class SearchTopic(Table):
    """A theme or life stage (生育收养, 婚姻登记 …) to browse by: the items whose name contains one
    of `terms` (words separated by "|"). Seeded from seeds/topics.toml."""

    code = Varchar(length=32, unique=True)
    name = Varchar(length=100)
    terms = Text(default="")
    position = Integer(default=0)


class SearchMiss(Table):
    """A query that found nothing: its text, how often, when last (no personal data)."""

    query = Varchar(length=100, unique=True)
    hits = Integer(default=0)
    last_seen = Timestamptz()


class LifeEvent(Table):
    """一件事: a bundle of items handled together at one window. Like an item it has a stable
    code (never reused), a lead department (牵头部门, whose editors keep it) and editions that go
    through the same workflow (registry.editions.workflow) and the same change log."""

    code = Varchar(length=40, unique=True, index=True)
    department = ForeignKey(references=Department, on_delete=OnDelete.restrict, index=True)
    current_edition = Integer(null=True, default=None)  # like ServiceItem.current_edition
    withdrawn = Boolean(default=False)
    created_at = Timestamptz()


class LifeEventEdition(Table):
    """One version of a life event (registry.events): its content (guides.events.EventContent,
    as JSON), the workflow columns an item's Edition has, and at publication its snapshot."""

    event = ForeignKey(references=LifeEvent, on_delete=OnDelete.restrict, index=True)
    version = Integer()
    status = Varchar(length=16, choices=EditionStatus, index=True)
    name = Varchar(length=100)
    content = JSON(default={})
    change_note = Text(default="")
    editor = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True, default=None)
    reviewer = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True, default=None)
    send_back_reason = Text(default="")
    contributors = JSON(default=[])
    lock_version = Integer(default=1)
    created_at = Timestamptz()
    updated_at = Timestamptz(null=True, default=None)
    submitted_at = Timestamptz(null=True, default=None)
    approved_at = Timestamptz(null=True, default=None)
    publish_deadline = Timestamptz(null=True, default=None)
    published_at = Timestamptz(null=True, default=None)
    snapshot = Text(null=True, default=None)
    fingerprint = Varchar(length=64, null=True, default=None)


class LifeEventItem(Table):
    """A life event edition's items, in order: the database refuses a reference to no item, and
    an item's page can ask which bundles include it."""

    edition = ForeignKey(references=LifeEventEdition, on_delete=OnDelete.restrict, index=True)
    item = ForeignKey(references=ServiceItem, on_delete=OnDelete.restrict, index=True)
    position = Integer()


class StoredFile(Table, tablename="attachment"):
    """An attachment's bytes (空白表格, 示例样表, 结果样本), once per SHA-256: editions refer to it
    by hash, any number of app servers serve it. Rows are only ever inserted (if absent)."""

    sha256 = Varchar(length=64, primary_key=True)
    content = Bytea()
    media_type = Varchar(length=100)
    size = Integer()
    created_at = Timestamptz()


TABLES: tuple[type[Table], ...] = (
    User,
    UserDepartment,
    ApiToken,
    StaffSession,
    LoginThrottle,
    Department,
    LegalDocument,
    Material,
    ServiceItem,
    Edition,
    EditionMaterial,
    Citation,
    Window,
    WindowItem,
    ScreenCheckin,
    Target,
    ChangeRecord,
    QualityFinding,
    SearchEntry,
    SearchSynonym,
    SearchTopic,
    SearchMiss,
    LifeEvent,
    LifeEventEdition,
    LifeEventItem,
    StoredFile,
)
