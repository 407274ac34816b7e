{#- The incident trend table adds months up and compares counts: every metric it
    lists must be a count of the catalogue (a rate's YTD is not a sum). -#}
select trend_metrics.metric_code, catalogue.kind
from {{ ref('incident_trend_metrics') }} as trend_metrics
inner join {{ ref('metric_catalogue') }} as catalogue
    on trend_metrics.metric_code = catalogue.metric_code
where catalogue.kind <> 'count'
