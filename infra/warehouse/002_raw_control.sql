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

-- File-drop sources (pingan_transforms.extract.files).
-- One row per loaded file. A file whose SHA-256 is here is never loaded again for its
-- source, whatever its name or folder; a changed file is a new batch.
create table if not exists raw._files (
    source       text not null,
    entity       text not null,
    sha256       text not null,
    file_path    text not null,   -- path relative to the drop directory when loaded
    batch_id     text not null references raw._batches (batch_id),
    row_count    bigint not null,  -- data rows loaded (title, header and 合计 rows excluded)
    total_check  text,            -- 合计 row check: null = no 合计 row, 'ok (row n)' or 'mismatch ...'
    loaded_at    timestamptz not null default now(),
    primary key (source, sha256)
);
