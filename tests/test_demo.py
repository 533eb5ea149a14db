"""The newcomer's main job runs end to end on the bundled data."""

import pytest

from skgan_ad import all_detectors
from skgan_ad.__main__ import DETECTOR_NAMES, main


def _table(out):
    lines = out[out.index("detector"):].splitlines()[1:]
    return {line.split()[0]: [float(value) for value in line.split()[1:]]
            for line in lines}


def test_demo_runs_every_detector_of_the_package_by_default():
    assert set(DETECTOR_NAMES) == {name for name, _ in all_detectors()} | {"IsolationForest"}


@pytest.mark.slow
def test_demo_prints_a_table_of_the_chosen_detectors(capsys):
    # AnoGAN's latent search over every row would make this the suite's slowest test.
    chosen = [name for name in DETECTOR_NAMES if name not in ("AnoGAN", "FenceGAN")]
    assert main(["demo", "--epochs", "1", "--min-steps", "0", "--quiet",
                 "--detectors", *chosen]) == 0
    out = capsys.readouterr().out
    assert "bundled sample" in out
    table = _table(out)
    assert list(table) == chosen
    auroc = {name: row[3] for name, row in table.items()}
    # One pass over the sample already ranks its attacks well above chance; GANomaly's
    # latent distance needs more than one pass to be sharp.
    assert auroc.pop("GANomaly") > 0.65
    assert min(auroc.values()) > 0.9, auroc


@pytest.mark.slow
def test_demo_with_fence_gans_defaults_flags_the_attacks(capsys):
    # One pass of Fence GAN (40 batches) leaves its verdict unformed; its defaults,
    # min_steps included, are what a user of the demo gets.
    assert main(["demo", "--quiet", "--detectors", "FenceGAN"]) == 0
    assert _table(capsys.readouterr().out)["FenceGAN"][3] > 0.9


def test_demo_refuses_an_unknown_detector(capsys):
    with pytest.raises(SystemExit):
        main(["demo", "--detectors", "PCA"])
    assert "invalid choice: 'PCA'" in capsys.readouterr().err
