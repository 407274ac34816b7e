-- The survey office's quarterly 群众安全感 spreadsheets (pingan_transforms.extract.survey),
-- loaded by the file-drop connector (raw._files, infra/warehouse/002_raw_control.sql).

-- Survey scores (群众安全感调查, xlsx), one row per township and quarter. Columns are the
-- sheet's headers mapped to pinyin initials by SURVEY_SCORES; all text. The final 全区
-- row (sample total, sample-weighted mean scores) is checked, not loaded.
create table if not exists raw.survey__scores (
    tjjd           text,   -- 统计季度 statistics quarter, e.g. 2024Q2
    xzqhdm         text,   -- 行政区划代码 township code (9 digits)
    xzjdmc         text,   -- 乡镇街道名称 township name
    ybl            text,   -- 样本量 sample size (respondents)
    aqgdf          text,   -- 安全感得分 sense-of-security score, 0-100
    mydf           text,   -- 满意度得分 satisfaction score, 0-100
    _batch_id      text not null,
    _extracted_at  timestamptz not null,
    _source_file   text not null,     -- path relative to the drop directory
    _source_row    integer not null   -- spreadsheet row number
);
create index if not exists survey__scores_batch on raw.survey__scores (_batch_id);
