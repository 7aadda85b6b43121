-- Every (recency score, frequency-monetary score) cell of the 5 x 5 grid must map
-- to exactly one named segment, or customers would get no segment or two.
with

cells as (
    select
        r.r_score,
        fm.fm_score
    from range(1, 6) as r (r_score)
    cross join range(1, 6) as fm (fm_score)
),

matches as (
    select
        cells.r_score,
        cells.fm_score,
        count(segments.rfm_segment) as n_segments
    from cells
    left join {{ ref('rfm_segments') }} as segments
        on
            cells.r_score between segments.r_score_min and segments.r_score_max
            and cells.fm_score between segments.fm_score_min and segments.fm_score_max
    group by all
)

select * from matches
where n_segments != 1
