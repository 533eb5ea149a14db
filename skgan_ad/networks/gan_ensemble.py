"""Several generators and discriminators of one method trained together.

Han, Chen and Liu's GAN ensemble ("GAN Ensemble for Anomaly Detection", AAAI 2021;
code ``tufts-ml/GAN-Ensemble-for-Anomaly-Detection``) keeps ``n`` generators (each with
its encoders) and ``n`` discriminators. Every training step draws one generator and one
discriminator at random and runs the method's step on that pair, so a step costs what a
single GAN's does and every generator meets every discriminator; the anomaly score is
the mean over all ``n * n`` pairs.

Each of a method's modules becomes a :class:`ModuleBank` of ``n`` independently
initialised copies that forwards to its active copy. The method's step and score code
stay as they are: they call ``net.generator_`` and ``net.discriminator_`` as usual, and
the engine picks the pair (:meth:`skgan_ad._engine.AdversarialNet.use_pair`).
"""

from torch import nn

__all__ = ["ModuleBank", "active_member", "is_discriminator"]


def is_discriminator(name):
    """Whether the module ``name`` of a method is on the discriminator side of a pair
    (every method names its discriminators ``discriminator...``)."""
    return name.startswith("discriminator")


class ModuleBank(nn.Module):
    """Copies of one module, of which the ``active`` one runs.

    Attributes the copies have and the bank does not (AnoGAN's ``search_start_.z``,
    a discriminator's ``body``) are read from the active copy.
    """

    def __init__(self, modules):
        super().__init__()
        self.members = nn.ModuleList(modules)
        self.active = 0

    def forward(self, *args, **kwargs):
        return self.members[self.active](*args, **kwargs)

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            # Not while the bank itself is being built, copied or unpickled.
            if name.startswith("__") or name in ("members", "active"):
                raise
            return getattr(self.members[self.active], name)


def active_member(module):
    """The copy of ``module`` that runs now: its active one for a bank, else itself."""
    return module.members[module.active] if isinstance(module, ModuleBank) else module
