"""Online curation over many epochs behaves as a fresh balanced sample each epoch: every epoch's
size within binomial bounds of sum(p), epochs independent of each other, each pair kept at its
own rate p. Bounds are z = 5 (two-sided chance under 1e-6 each) or Hoeffding's, not eyeballed."""

from __future__ import annotations

import math

import numpy as np
import pytest

from metaclip_sql.online import OnlineCuration
from tests.helpers.online import pool_pairs
from tests.helpers.pools import zipf_pool

EPOCHS = 24
Z = 5.0


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    folder = tmp_path_factory.mktemp("online-stats")
    pool = zipf_pool(folder, images=3000, entries=200, max_texts=3, max_entries=3, seed=8)
    return pool_pairs(pool, {"en"})


def counted(pairs, t: float, unit: str) -> OnlineCuration:
    counts = np.bincount(np.concatenate([np.asarray(e) for e in pairs.entry_ids]))
    ids = np.flatnonzero(counts)
    return OnlineCuration(ids, counts[ids], t=t, seed=5, unit=unit)


def test_epoch_sizes_and_independence(pool):
    oc = counted(pool, t=25.0, unit="pair")
    p = oc.probability(pool.entry_ids)
    assert 0.1 < (p < 1).mean() < 0.95  # both kinds of pairs
    mean, sd = p.sum(), math.sqrt((p * (1 - p)).sum())
    kept = np.array([oc.keep(pool.keys, pool.entry_ids, e) for e in range(EPOCHS)])
    sizes = kept.sum(axis=1)
    assert (np.abs(sizes - mean) <= Z * sd).all(), (sizes, mean, sd)
    # the sizes themselves spread like a binomial's: their variance is within a chi-square band
    chi2 = ((sizes - mean) ** 2).sum() / sd**2  # ~ chi-square with EPOCHS degrees of freedom
    assert EPOCHS - Z * math.sqrt(2 * EPOCHS) < chi2 < EPOCHS + 2 * Z * math.sqrt(2 * EPOCHS)
    # epochs differ, and two epochs share sum(p^2) pairs as independent draws would
    q = p * p
    both_mean, both_sd = q.sum(), math.sqrt((q * (1 - q)).sum())
    for a in range(EPOCHS):
        for b in range(a + 1, EPOCHS):
            both = int((kept[a] & kept[b]).sum())
            assert abs(both - both_mean) <= Z * both_sd, (a, b, both, both_mean)
            assert not np.array_equal(kept[a], kept[b])
    # pairs with p = 1 (a tail entry) are in every epoch
    assert kept[:, p == 1.0].all()


def test_each_pair_tracks_its_probability(pool):
    """Over 200 epochs: each pair's rate within Hoeffding's bound of p (all pairs at once), the
    sum of squared standardised errors a chi-square, and rates per band of p near p."""
    oc = counted(pool, t=25.0, unit="pair")
    epochs = 200
    p = oc.probability(pool.entry_ids)
    hits = np.zeros(len(pool), dtype=np.int64)
    for epoch in range(epochs):
        hits += oc.keep(pool.keys, pool.entry_ids, epoch)
    rate = hits / epochs
    # Hoeffding: P(|rate - p| >= eps) <= 2 exp(-2 n eps^2); union over all pairs at 1e-6
    eps = math.sqrt(math.log(2 * len(pool) / 1e-6) / (2 * epochs))
    assert (np.abs(rate - p) < eps).all()
    head = (p > 0) & (p < 1)
    var = p[head] * (1 - p[head]) / epochs
    chi2 = (((rate[head] - p[head]) ** 2) / var).sum()
    k = int(head.sum())
    assert abs(chi2 - k) < Z * math.sqrt(2 * k) * 1.2  # discreteness widens the band a little
    for lo, hi in ((0.0, 0.2), (0.2, 0.4), (0.4, 0.7), (0.7, 1.0)):
        band = head & (p >= lo) & (p < hi)
        if band.sum() < 20:
            continue
        expected = p[band].mean()
        sd = math.sqrt((p[band] * (1 - p[band])).sum() / epochs) / band.sum()
        assert abs(rate[band].mean() - expected) < Z * sd, (lo, hi)


def test_image_unit_epochs(pool):
    """Unit image: one text per image each epoch, the picks spread evenly over the texts, and
    the size within bounds of sum over images of mean(p)."""
    oc = counted(pool, t=25.0, unit="image")
    p = oc.probability(pool.entry_ids)
    images, codes = np.unique(np.array(pool.uuids), return_inverse=True)
    texts = np.bincount(codes)
    by_image = np.bincount(codes, weights=p / texts[codes])
    mean, sd = by_image.sum(), math.sqrt((by_image * (1 - by_image)).sum())
    picked_count = np.zeros(len(pool), dtype=np.int64)
    all_kept = OnlineCuration(np.arange(1000), np.ones(1000, dtype=np.int64), t=5.0, unit="image")
    for epoch in range(EPOCHS):
        kept = oc.keep(pool.keys, pool.entry_ids, epoch, uuids=pool.uuids)
        assert np.bincount(codes[kept], minlength=len(images)).max() <= 1
        assert abs(kept.sum() - mean) <= Z * sd
        # with every entry in the tail, exactly the picks are kept: one per image
        picks = all_kept.keep(pool.keys, pool.entry_ids, epoch, uuids=pool.uuids)
        assert np.bincount(codes[picks], minlength=len(images)).min() == 1
        picked_count += picks
    # a text of an image with k texts is picked in about EPOCHS / k epochs: Pearson's
    # chi-square over the multi-text images, with sum(k - 1) degrees of freedom
    multi = texts[codes] > 1
    expected = EPOCHS / texts[codes[multi]]
    chi2 = (((picked_count[multi] - expected) ** 2) / expected).sum()
    dof = int((texts[texts > 1] - 1).sum())
    assert abs(chi2 - dof) < Z * math.sqrt(2 * dof), (chi2, dof)
    assert len(np.unique(picked_count[multi])) > 3  # picks move between epochs
