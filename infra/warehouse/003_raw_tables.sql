-- Raw landing tables: every source field kept as text, plus load metadata.
-- Personal data never lands in plain text: names are dropped, phone and ID numbers
-- arrive already keyed-hashed (HMAC-SHA256) by the extractor.

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

create table if not exists raw.police__incidents (
    jjdbh           text,   -- 接警单编号 incident number (natural key)
    bjsj            text,   -- 报警时间 reported at
    pjsj            text,   -- 派警时间 dispatched at
    ddsj            text,   -- 到达时间 arrived at
    jqlbdm          text,   -- 警情类别代码 category code
    jqlbmc          text,   -- 警情类别名称 category name
    jqxldm          text,   -- 警情细类代码 sub-category code
    xzqhdm          text,   -- 行政区划代码 region code
    fadz            text,   -- 发案地址 address
    jd              text,   -- 经度 longitude
    wd              text,   -- 纬度 latitude
    bjrdh_hash      text,   -- 报警人电话 caller phone, HMAC-SHA256
    bjrsfzh_hash    text,   -- 报警人身份证号 caller ID number, HMAC-SHA256
    hfmyd           text,   -- 回访满意度 callback satisfaction
    gxsj            text,   -- 更新时间 source updated-at (watermark column)
    _batch_id       text not null,
    _extracted_at   timestamptz not null,
    _source_ref     text not null
);
create index if not exists police__incidents_batch on raw.police__incidents (_batch_id);
