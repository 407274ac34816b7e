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
