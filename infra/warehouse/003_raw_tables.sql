-- The region master's raw table: every field kept as text, plus load metadata. The
-- source systems' raw tables are each in its folder of the registry (sources/<name>/raw.sql),
-- applied after these scripts (pingan_transforms.warehouse.prepare_warehouse).

create table if not exists raw.regions__master (
    code                 text,
    name                 text,
    level                text,
    parent_code          text,
    resident_population  text,
    floating_population  text,
    valid_from           text,
    valid_to             text,
    _batch_id            text not null,
    _extracted_at        timestamptz not null,
    _source_file         text not null,
    _source_row          integer not null
);
