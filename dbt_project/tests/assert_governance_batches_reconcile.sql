-- For every governance batch (petitions, disputes and grid patrols): raw rows = placed +
-- quarantined + superseded versions, and raw holds exactly the rows the extractor
-- recorded in raw._batches.
select *
from {{ ref('int_governance_batches_reconciled') }}
where not is_reconciled
