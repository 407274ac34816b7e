-- Traffic police (交警) API landing tables: every API field kept as text (columns are
-- the API's camelCase names in snake_case), plus load metadata. The reporter's name
-- (reporterName) is dropped and the phone (reporterPhone) keyed-hashed by the extractor.

create table if not exists raw.traffic__accidents (
    accident_no          text,   -- accidentNo 事故编号 (natural key)
    occur_time           text,   -- occurTime 事故发生时间, Beijing wall clock
    location             text,   -- location 事故地点
    area_code            text,   -- areaCode 行政区划代码, village or town
    death_count          text,   -- deathCount 死亡人数
    injury_count         text,   -- injuryCount 受伤人数
    vehicle_types        text,   -- vehicleTypes 涉事车辆类型, the JSON array as text
    update_time          text,   -- updateTime 更新时间, ISO 8601 with offset (watermark)
    reporter_phone_hash  text,   -- reporterPhone 报警人电话, HMAC-SHA256 (null without a key)
    _batch_id            text not null,
    _extracted_at        timestamptz not null,
    _source_ref          text not null   -- endpoint?page=N#index-in-page (1-based)
);
create index if not exists traffic__accidents_batch on raw.traffic__accidents (_batch_id);

create table if not exists raw.traffic__violations (
    area_code        text,   -- areaCode 行政区划代码 (town)
    stat_month       text,   -- statMonth 统计月份 YYYY-MM
    violation_code   text,   -- violationCode 违法行为代码
    violation_name   text,   -- violationName 违法类型
    violation_count  text,   -- violationCount 违法起数
    update_time      text,   -- updateTime 更新时间
    _batch_id        text not null,
    _extracted_at    timestamptz not null,
    _source_ref      text not null   -- endpoint?month=YYYY-MM&page=N#index-in-page
);
create index if not exists traffic__violations_batch on raw.traffic__violations (_batch_id);
