-- Appeals (申诉复核, issue 14): a unit contests source records counted against it in a
-- month (wrongly placed, a duplicate, not its jurisdiction). Filed and decided with
-- `pingan appeal file|decide` (pingan_transforms/publish/appeals.py); dbt reads them
-- as the `publish` source: an accepted appeal takes its records out of the unit's
-- metrics for that month, or moves them to the unit the decision names
-- (int_metric_records_appealed), and the month's next publication or revision says so.
create table if not exists publish.appeals (
    appeal_id       bigint generated always as identity primary key,
    scheme_code     text        not null,  -- the ranking the unit contests
    month_start     date        not null,
    region_code     text        not null,  -- the unit that appeals
    region_name     text,
    reason          text        not null,
    filed_by        text,
    filed_at        timestamptz not null default now(),
    status          text        not null default 'filed'
        check (status in ('filed', 'accepted', 'rejected')),
    move_to         text,                  -- accepted: the unit the records belong to
    move_to_name    text,                  --   (null: they count nowhere here)
    decided_by      text,
    decided_at      timestamptz,
    decision_note   text,
    applied_in_revision integer,           -- the publication of the month that first
                                           -- counted the decision (null: not yet)
    check ((status = 'filed') = (decided_by is null)),
    check (move_to is null or status = 'accepted')
);

-- The records an appeal contests: each as the marts counted it when it was filed.
create table if not exists publish.appeal_records (
    appeal_id       bigint      not null references publish.appeals (appeal_id),
    source_entity   text        not null,  -- e.g. police.incidents
    record_key      text        not null,
    placed_code     text        not null,  -- the village (or town) it was placed in
    primary key (appeal_id, source_entity, record_key)
);

-- Every step of every appeal, in order: filed, accepted, rejected, applied.
create table if not exists publish.appeal_events (
    event_id        bigint generated always as identity primary key,
    appeal_id       bigint      not null references publish.appeals (appeal_id),
    event           text        not null
        check (event in ('filed', 'accepted', 'rejected', 'applied')),
    actor           text,
    happened_at     timestamptz not null default now(),
    note            text
);

-- Which accepted appeals a draft counts (named in its 本次修订说明).
alter table publish.drafts add column if not exists appeal_ids bigint[] not null default '{}';
