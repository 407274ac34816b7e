-- Rank intervals (issue 15): how far each ranked unit's rank could move under count
-- noise and category weights within ±20 %, from a seeded Monte Carlo of the month's
-- scoring (pingan_transforms/scheme/rank_intervals.py, run by the monthly DAG's
-- rank_intervals task after the quality gate). Beside marts.region_index_monthly, of
-- whose current scores it is computed: a row whose published_rank / published_score
-- no longer match that mart is stale (the month was rebuilt since) and readers ignore
-- it. Not granted to the BI role, like the current score tables.
create table if not exists marts.region_index_rank_intervals (
    scheme_code             text        not null,
    scheme_version          integer     not null,
    month_start             date        not null,
    region_code             text        not null,
    published_rank          integer     not null,  -- rank_in_peer_group when computed
    published_score         numeric(8, 2) not null,
    rank_low                integer     not null,  -- 5th percentile of the drawn ranks
    rank_median             integer     not null,
    rank_high               integer     not null,  -- 95th percentile
    published_outside_draws boolean     not null,  -- the interval was widened to hold it
    draws                   integer     not null,
    weight_spread           numeric(4, 2) not null,  -- 0.20: weights within ±20 %
    computed_at             timestamptz not null default now(),
    primary key (scheme_code, month_start, region_code),
    check (rank_low <= published_rank and published_rank <= rank_high)
);

-- Whether the rank moved beyond chance since last month (same scheme and version): the
-- two months' intervals do not overlap (clear_rise / clear_fall) or do (within_chance);
-- null without last month's interval. The bulletin words rank moves by it.
alter table marts.region_index_rank_intervals
    add column if not exists previous_rank_low  integer,
    add column if not exists previous_rank_high integer,
    add column if not exists rank_move          text
        check (rank_move in ('clear_rise', 'clear_fall', 'within_chance'));
