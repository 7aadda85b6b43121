"""Segments against the generator's planted personas.

    python -m microseg.segment_eval --truth data/truth --db data/microseg.duckdb [--target target]

Each customer of customer_segments is mapped to a person through
customer_identity_map and truth/identity.parquet (the person most of its
identifiers belong to); customers with no person in truth are left out. Prints
the adjusted Rand index of segment_id vs persona, the same for the classic
recipe (K-Means, 5 clusters, on standardized recency, frequency, monetary value
and engagement score), the chosen k and its table, and the model's run time
from run_results.json. Truth is read here only, never by a model.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from sklearn.preprocessing import StandardScaler


def classic_rfm_labels(features: pd.DataFrame, random_state: int = 42) -> np.ndarray:
    """K-Means(5) on standardized recency (tenure without purchase), frequency,
    monetary value and engagement score: the textbook baseline."""
    x = features[["recency_or_tenure_days", "frequency", "monetary_eur", "engagement_score"]].astype(float)
    x = StandardScaler().fit_transform(x.fillna(x.median()))
    return KMeans(n_clusters=5, n_init=4, random_state=random_state).fit_predict(x)


def evaluate(truth: Path, db: Path) -> dict:
    con = duckdb.connect(str(db), read_only=True)
    try:
        segments = con.sql("select * from ml.customer_segments").df()
        features = con.sql("select * from marts.mart_customer_features").df()
        id_map = con.sql("select source, source_id, customer_key from marts.customer_identity_map").df()
        quality = con.sql("select * from ml.segment_quality order by k").df()
    finally:
        con.close()
    identity = pd.read_parquet(Path(truth) / "identity.parquet")
    persons = pd.read_parquet(Path(truth) / "persons.parquet")[["person_id", "persona"]]
    person = (
        id_map.merge(identity, on=["source", "source_id"])
        .groupby("customer_key")["person_id"].agg(lambda s: s.mode().iloc[0]).reset_index()
        .merge(persons, on="person_id")
    )
    data = features.merge(segments[["customer_key", "segment_id", "segment_name"]], on="customer_key")
    data["classic"] = classic_rfm_labels(data)
    data = data.merge(person, on="customer_key")
    sizes = segments.groupby(["segment_id", "segment_name"]).size().rename("customers").reset_index()
    return {
        "customers_segmented": len(segments),
        "customers_evaluated": len(data),
        "ari_model": float(adjusted_rand_score(data["persona"], data["segment_id"])),
        "ari_classic_rfm_kmeans5": float(adjusted_rand_score(data["persona"], data["classic"])),
        "quality": quality,
        "sizes": sizes,
        "crosstab": pd.crosstab(data["persona"], data["segment_id"]),
    }


def model_seconds(target: Path, name: str = "customer_segments") -> dict[str, float]:
    """Execution time of the segmentation models in the last run_results.json."""
    path = Path(target) / "run_results.json"
    if not path.exists():
        return {}
    results = json.loads(path.read_text())["results"]
    wanted = {name, "segment_model", "segment_quality", "segment_profiles", "segment_centroid_history",
              "mart_customer_features"}
    return {r["unique_id"].split(".")[-1]: round(r["execution_time"], 1) for r in results
            if r["unique_id"].startswith("model.") and r["unique_id"].split(".")[-1] in wanted}


def format_report(r: dict, seconds: dict[str, float]) -> str:
    chosen = r["quality"][r["quality"]["is_chosen"]].iloc[0]
    lines = [
        f"customers segmented: {r['customers_segmented']}, evaluated against truth: {r['customers_evaluated']}",
        f"ARI segment_id vs persona:              {r['ari_model']:.3f}",
        f"ARI classic RFM+engagement K-Means(5):  {r['ari_classic_rfm_kmeans5']:.3f}",
        f"chosen k: {int(chosen['k'])}  silhouette {chosen['silhouette']:.3f}  stability (mean ARI) "
        f"{chosen['stability_ari']:.3f}  PCA {int(chosen['pca_components'])} components, "
        f"{chosen['pca_variance_explained']:.1%} of variance",
        "",
        r["quality"][["k", "silhouette", "davies_bouldin", "calinski_harabasz", "smallest_segment_size",
                      "meets_min_size", "is_chosen"]].to_string(index=False),
        "",
        r["sizes"].to_string(index=False),
        "",
        r["crosstab"].to_string(),
    ]
    if seconds:
        lines += ["", "model seconds (run_results.json): " + ", ".join(f"{k} {v}" for k, v in seconds.items())]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--truth", type=Path, default=Path("data/truth"))
    parser.add_argument("--db", type=Path, default=Path("data/microseg.duckdb"))
    parser.add_argument("--target", type=Path, default=Path("target"))
    args = parser.parse_args(argv)
    print(format_report(evaluate(args.truth, args.db), model_seconds(args.target)))


if __name__ == "__main__":
    main()
