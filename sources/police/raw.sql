-- The police front database's raw tables (110 接处警 jq_110, 反诈预警 fzyj): every source
-- field kept as text plus load metadata. Personal data never lands in plain text: names
-- are dropped, phone and ID numbers arrive keyed-hashed (HMAC-SHA256) by the extractor.

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

-- Police anti-fraud warnings (反诈预警) and their dissuasion results, from the front
-- database table fzyj: every source field as text plus load metadata. The victim's
-- name (shrxm) is never read; the victim's phone arrives keyed-hashed (HMAC-SHA256).

create table if not exists raw.police__fraud_warnings (
    yjbh            text,   -- 预警编号 warning number (natural key)
    yjsj            text,   -- 预警时间 warned at
    xzqhdm          text,   -- 行政区划代码 region code
    yjlx            text,   -- 预警类型 warning type
    shrdh_hash      text,   -- 受害人电话 victim phone, HMAC-SHA256
    qzjg            text,   -- 劝阻结果 dissuasion result
    zfje            text,   -- 止付金额 amount stopped (yuan)
    gxsj            text,   -- 更新时间 source updated-at (watermark column)
    _batch_id       text not null,
    _extracted_at   timestamptz not null,
    _source_ref     text not null
);
create index if not exists police__fraud_warnings_batch
    on raw.police__fraud_warnings (_batch_id);
