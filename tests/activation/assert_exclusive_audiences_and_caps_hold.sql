{#- audience_members keeps the seed's promises: no customer in two exclusive
    audiences, no audience over its size cap, and a customer who lost an
    exclusive overlap lost it to an audience of smaller (or equal, then
    earlier-named) priority. Returns the offending audience or customer. -#}
with

members as not materialized (
    select * from {{ ref('audience_members') }}
),

audiences as not materialized (
    select * from {{ ref('audiences') }}
),

double_exclusive as (
    select 'customer ' || customer_key || ' in ' || count(*) || ' exclusive audiences' as problem
    from members
    where is_exclusive
    group by customer_key
    having count(*) > 1
),

over_cap as (
    select 'audience ' || audiences.audience_name || ' over its cap of ' || audiences.size_cap as problem
    from members
    inner join audiences on members.audience_name = audiences.audience_name
    where audiences.size_cap is not null
    group by audiences.audience_name, audiences.size_cap
    having count(*) > audiences.size_cap
)

select * from double_exclusive
union all
select * from over_cap
