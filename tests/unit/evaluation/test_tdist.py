"""Student's t tail, quantile and test power against closed forms, published tables and simulation."""

import math

import numpy as np
import pytest

from pear_verl.evaluation.tdist import betainc, t_power, t_quantile, t_tail

# Two-sided 95% and 99% critical values, t_{0.975, df} and t_{0.995, df}, from the t table of the
# NIST/SEMATECH e-Handbook of Statistical Methods, §1.3.6.7.2 (https://www.itl.nist.gov/div898/handbook/eda/section3/eda3672.htm).
NIST_T = {1: (12.706, 63.657), 2: (4.303, 9.925), 3: (3.182, 5.841), 5: (2.571, 4.032), 10: (2.228, 3.169),
          30: (2.042, 2.750), 100: (1.984, 2.626)}


@pytest.mark.parametrize("df", sorted(NIST_T))
def test_quantiles_match_the_nist_table(df):
    assert t_quantile(0.975, df) == pytest.approx(NIST_T[df][0], abs=6e-4)
    assert t_quantile(0.995, df) == pytest.approx(NIST_T[df][1], abs=6e-4)


def test_tail_matches_closed_forms_for_one_and_two_df():
    t = np.array([0.0, 0.3, 1.0, 2.5, 7.0, 40.0])
    # df = 1 (Cauchy): P(|T| > t) = 1 − 2 atan(t) / π; df = 2: P(|T| > t) = 1 − t / √(2 + t²)
    assert np.allclose(t_tail(t, 1), 1 - 2 * np.arctan(t) / math.pi, rtol=1e-12, atol=1e-15)
    assert np.allclose(t_tail(t, 2), 1 - t / np.sqrt(2 + t * t), rtol=1e-12, atol=1e-15)
    assert t_tail(np.inf, 3) == 0.0 and t_tail(-2.5, 2) == t_tail(2.5, 2)


def test_large_df_is_the_normal_distribution():
    # normal: P(|Z| > 1.959964) = 0.05; the t quantile tends to z_{0.975} = 1.959964
    assert t_quantile(0.975, 1e6) == pytest.approx(1.959964, abs=1e-5)
    assert t_tail(1.959964, 1e6) == pytest.approx(0.05, abs=1e-6)


def test_betainc_against_a_loop_based_integral():
    # I_x(a, b) = ∫_0^x u^(a−1) (1−u)^(b−1) du / B(a, b), midpoint rule on a fine grid (b >= 1 keeps it smooth)
    for a, b, x in [(2.0, 3.0, 0.4), (0.5 + 1, 1.5, 0.9), (5.0, 1.0, 0.7), (1.5, 2.5, 0.05)]:
        grid = (np.arange(200_000) + 0.5) / 200_000
        dens = grid ** (a - 1) * (1 - grid) ** (b - 1)
        want = dens[grid < x].sum() / dens.sum()
        assert betainc(a, b, x) == pytest.approx(want, abs=1e-5)


@pytest.mark.parametrize("df, lam", [(2, 0.0), (2, 3.0), (4.5, 2.0), (40, 2.8)])
def test_power_matches_a_simulated_noncentral_t(df, lam):
    rng = np.random.default_rng(7)
    n = 400_000
    t = (rng.standard_normal(n) + lam) / np.sqrt(rng.chisquare(df, n) / df)
    simulated = float((np.abs(t) > t_quantile(0.975, df)).mean())
    # binomial SE of the simulated rate is at most √(.25 / 4e5) = 0.0008
    assert t_power(lam, df) == pytest.approx(simulated, abs=0.003)
