-- Extraction bookkeeping: one row per loaded batch and one watermark per source entity.
create table if not exists raw._batches (
    batch_id        text primary key,
    source          text not null,
    entity          text not null,
    window_start    timestamptz,
    window_end      timestamptz not null,
    watermark_from  timestamptz,
    watermark_to    timestamptz,
    row_count       bigint not null,
    source_ref      text,
    extracted_at    timestamptz not null default now()
);

create table if not exists raw._watermarks (
    source      text not null,
    entity      text not null,
    high_water  timestamptz not null,
    batch_id    text not null,
    updated_at  timestamptz not null default now(),
    primary key (source, entity)
);
