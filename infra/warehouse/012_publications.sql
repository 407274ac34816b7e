-- Publications (DESIGN.md §7): every bulletin mailed, one row per scheme × month ×
-- revision, written by pingan_transforms/publish/publications.py in the same
-- transaction as the snapshot of what it published, after the mail server accepted
-- the message (a failed send records nothing). Revision 1 is the first publication of
-- a month; data that changes the month's published content afterwards produces
-- revision 2, 3 … with its differences in `changes`; unchanged content sends nothing.
-- dbt reads this as the `publish` source (marts.publications).
create schema if not exists publish;
comment on schema publish is 'what was published: bulletins mailed, their revisions and content';

create table if not exists publish.publications (
    scheme_code     text        not null,
    scheme_version  integer     not null,  -- the version that scored the month
    month_start     date        not null,
    revision        integer     not null check (revision >= 1),
    data_cutoff     timestamptz,           -- latest raw._batches.extracted_at behind the marts
    recipients      text[]      not null,
    checksum        text        not null,  -- sha256 of the canonical published content
    subject         text        not null,
    sent_at         timestamptz not null,
    message_id      text        not null,
    files           jsonb       not null,  -- [{"name", "content_type", "bytes", "sha256"}]
    changes         jsonb       not null default '[]'::jsonb,
                                           -- [{"region_code", "region_name", "field",
                                           --   "before", "after"}] vs the previous revision
    recorded_at     timestamptz not null default now(),
    primary key (scheme_code, month_start, revision)
);

-- What each revision published per unit: the base the next revision's changes are
-- stated against (score, rank and grade as they were in that revision).
create table if not exists publish.publication_units (
    scheme_code     text          not null,
    month_start     date          not null,
    revision        integer       not null,
    region_code     text          not null,
    region_name     text,
    score           numeric(6,2)  not null,
    rank            integer       not null,
    grade           text          not null,
    primary key (scheme_code, month_start, revision, region_code),
    foreign key (scheme_code, month_start, revision)
        references publish.publications (scheme_code, month_start, revision)
);

-- Sign-off (签发, issue 17): a publication is drafted first (bulletin, PDF and ranking
-- files rendered, the content's checksum fixed), then waits for a named person to
-- approve or reject it in Airflow (a human-in-the-loop task of pingan_monthly, or
-- `pingan publish approve|reject`). Only an approved draft is mailed, and only while
-- the marts still hold the content it showed.
alter table publish.publications add column if not exists signed_by text;
alter table publish.publications add column if not exists signed_at timestamptz;

create table if not exists publish.drafts (
    draft_id        bigint generated always as identity primary key,
    scheme_code     text        not null,
    scheme_version  integer     not null,
    month_start     date        not null,
    revision        integer     not null check (revision >= 1),
    checksum        text        not null,  -- the content the draft shows
    subject         text        not null,
    files           jsonb       not null,  -- {"html", "pdf", "xlsx"}: paths as rendered
    changes         jsonb       not null default '[]'::jsonb,  -- as publications.changes
    status          text        not null default 'awaiting'
        check (status in ('awaiting', 'approved', 'rejected', 'superseded')),
    drafted_at      timestamptz not null default now(),
    decided_by      text,                  -- 签发人 (or who rejected it)
    decided_at      timestamptz,
    reason          text,                  -- why it was rejected
    dag_run_id      text,                  -- the pingan_monthly run that drafted it
    check ((status in ('approved', 'rejected')) = (decided_by is not null))
);
-- at most one draft of a (scheme, month) waits at a time: a new one supersedes it
create unique index if not exists drafts_one_awaiting
    on publish.drafts (scheme_code, month_start) where status = 'awaiting';

-- Revisions by policy (issue 17): a published month is never re-mailed by itself.
-- When later data change it, the run reviews the change against the revision policy
-- of config/publishing.yml; a material change is drafted as a revision that an office
-- signs off with `pingan publish approve` (signoff_via = 'office'), the month's own
-- bulletin waits in Airflow's Required Actions (signoff_via = 'airflow').
alter table publish.drafts add column if not exists signoff_via text not null
    default 'airflow' check (signoff_via in ('airflow', 'office'));

-- The data cutoff (考核截止日, issue 17): the moment of config/publishing.yml the month's
-- first publication scores the sources up to (cutoff_at), and how far the extracts
-- behind the marts had read the sources when the draft was rendered (data_loaded_to,
-- the latest raw._batches.window_end of a database or API extract). A first
-- publication whose data_loaded_to is after its cutoff_at holds later data: the
-- sign-off form says so.
alter table publish.drafts add column if not exists cutoff_at timestamptz;
alter table publish.drafts add column if not exists data_loaded_to timestamptz;
alter table publish.publications add column if not exists cutoff_at timestamptz;
alter table publish.publications add column if not exists data_loaded_to timestamptz;

-- What each revision published per unit and item: the moved items of a later
-- revision candidate are stated against it (marts.publication_revision_items).
create table if not exists publish.publication_items (
    scheme_code     text          not null,
    month_start     date          not null,
    revision        integer       not null,
    region_code     text          not null,
    item_code       text          not null,
    item_name       text,
    item_score      numeric       not null,
    metric_value    numeric,
    primary key (scheme_code, month_start, revision, region_code, item_code),
    foreign key (scheme_code, month_start, revision)
        references publish.publications (scheme_code, month_start, revision)
);

-- Every review of a published month whose content changed: which revision it was
-- compared with, whether the policy found it material, why, and the draft it made.
-- One row per content (checksum) reviewed: a run that finds the same content again
-- records nothing new.
create table if not exists publish.revision_reviews (
    scheme_code     text        not null,
    month_start     date        not null,
    checksum        text        not null,  -- the content reviewed (marts at the time)
    published_revision integer  not null,  -- the revision it was compared with
    material        boolean     not null,
    policy          jsonb       not null,  -- the policy applied
    changes         jsonb       not null,  -- as drafts.changes, each with "material"
    draft_id        bigint references publish.drafts (draft_id),
    reviewed_at     timestamptz not null default now(),
    dag_run_id      text,
    primary key (scheme_code, month_start, checksum)
);

-- The files each publication was drafted with (bulletin HTML and PDF, ranking xlsx, csv
-- and json), byte for byte: a run of a published month writes these back instead of
-- files of numbers nobody signed (pingan_transforms/publish/archive.py).
create table if not exists publish.publication_files (
    scheme_code     text        not null,
    month_start     date        not null,
    revision        integer     not null,
    kind            text        not null,  -- html, pdf, xlsx, csv, json
    path            text        not null,  -- where it was drafted, under the output folder
    content         bytea       not null,
    sha256          text        not null,
    primary key (scheme_code, month_start, revision, kind),
    foreign key (scheme_code, month_start, revision)
        references publish.publications (scheme_code, month_start, revision)
);

-- Every run of a month's quality gate: passed, or why not (the error's message). A
-- month whose gate failed keeps its scores in the marts but is not published;
-- marts.month_status says so (pingan_transforms/quality/outcomes.py).
create table if not exists publish.gate_results (
    gate_result_id  bigint generated always as identity primary key,
    month_start     date        not null,
    passed          boolean     not null,
    reason          text,
    dag_run_id      text,
    checked_at      timestamptz not null default now(),
    check (passed = (reason is null))
);

-- The published rows in full (issue 17, "as published"): each unit's row of
-- marts.region_index_monthly and each item's and category's row as the revision
-- published them, as JSON (the marts' columns may grow; a snapshot keeps what was
-- there). marts.region_index_published reads them.
alter table publish.publication_units add column if not exists row jsonb;
alter table publish.publication_items add column if not exists row jsonb;
create table if not exists publish.publication_categories (
    scheme_code     text        not null,
    month_start     date        not null,
    revision        integer     not null,
    region_code     text        not null,
    category_code   text        not null,
    row             jsonb       not null,
    primary key (scheme_code, month_start, revision, region_code, category_code),
    foreign key (scheme_code, month_start, revision)
        references publish.publications (scheme_code, month_start, revision)
);
