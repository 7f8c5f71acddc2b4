"""Small Siamese U-Nets for two-date change maps (and a single-date variant), CPU-sized.

A shared encoder sees each date; every skip carries the signed feature difference (after - before)
and the after features, so the decoder knows both *that* and *how* a pixel changed (burn versus
regrowth). The graph takes one tensor with the two dates concatenated on channels
``[B, 2*C, H, W]`` and returns a probability ``[B, 1, H, W]`` (sigmoid inside), so the exported
ONNX file is self-contained: fixed per-band standardisation, optional per-tile normalisation.
"""

from __future__ import annotations

import torch
from torch import nn


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class Encoder(nn.Module):
    def __init__(self, cin: int, widths: tuple[int, ...]) -> None:
        super().__init__()
        chans = (cin, *widths)
        self.blocks = nn.ModuleList(_block(chans[i], chans[i + 1]) for i in range(len(widths)))
        self.pool = nn.MaxPool2d(2)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        feats = []
        for i, blk in enumerate(self.blocks):
            x = blk(x if i == 0 else self.pool(x))
            feats.append(x)
        return feats


class Decoder(nn.Module):
    def __init__(self, skip_chans: tuple[int, ...], widths: tuple[int, ...], classes: int = 1) -> None:
        super().__init__()
        self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
        self.blocks = nn.ModuleList()
        n = len(widths)
        for i in range(n - 2, -1, -1):
            self.blocks.append(_block(widths[i + 1] + skip_chans[i], widths[i]))
        self.bottom = _block(skip_chans[-1], widths[-1])
        self.head = nn.Conv2d(widths[0], classes, 1)

    def forward(self, skips: list[torch.Tensor]) -> torch.Tensor:
        x = self.bottom(skips[-1])
        for blk, skip in zip(self.blocks, reversed(skips[:-1])):
            x = blk(torch.cat([self.up(x), skip], 1))
        return self.head(x)


class Standardise(nn.Module):
    """Fixed per-band (x - mean) / std, or per-tile per-channel standardisation when ``per_tile``."""

    def __init__(self, mean: list[float], std: list[float], per_tile: bool = False, ratio: bool = False) -> None:
        super().__init__()
        self.ratio = ratio
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1))
        self.per_tile = per_tile

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.nan_to_num(x, nan=0.0)
        if self.ratio:
            # Gain-invariant normalised difference of the first two bands (NBR for NIR/SWIR2).
            nd = (x[:, :1] - x[:, 1:2]) / (x[:, :1].abs() + x[:, 1:2].abs() + 1e-3)
            return torch.cat([(x - self.mean) / self.std, 3.0 * nd], 1)
        if self.per_tile:
            m = x.mean(dim=(2, 3), keepdim=True)
            s = torch.sqrt(((x - m) ** 2).mean(dim=(2, 3), keepdim=True) + 1e-6)
            return (x - m) / s
        return (x - self.mean) / self.std


class SiamUNet(nn.Module):
    """Two dates concatenated on channels -> change probability."""

    def __init__(
        self,
        bands: int,
        widths: tuple[int, ...] = (16, 32, 64),
        mean: list[float] | None = None,
        std: list[float] | None = None,
        per_tile: bool = False,
        ratio: bool = False,
        classes: int = 1,
    ) -> None:
        super().__init__()
        self.bands = bands
        self.norm = Standardise(mean or [0.0] * bands, std or [1.0] * bands, per_tile, ratio)
        self.encoder = Encoder(bands + int(ratio), widths)
        self.decoder = Decoder(tuple(2 * w for w in widths), widths, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[0]
        # Both dates through the shared encoder in one batch (one set of kernels, shared BN statistics).
        feats = self.encoder(torch.cat([self.norm(x[:, : self.bands]), self.norm(x[:, self.bands :])], 0))
        skips = [torch.cat([f[n:] - f[:n], f[n:]], 1) for f in feats]
        return self.decoder(skips)


class UNet(nn.Module):
    """Single-date segmentation (after-only mode)."""

    def __init__(
        self,
        bands: int,
        widths: tuple[int, ...] = (16, 32, 64),
        mean: list[float] | None = None,
        std: list[float] | None = None,
        per_tile: bool = False,
        ratio: bool = False,
    ) -> None:
        super().__init__()
        self.norm = Standardise(mean or [0.0] * bands, std or [1.0] * bands, per_tile, ratio)
        self.encoder = Encoder(bands + int(ratio), widths)
        self.decoder = Decoder(widths, widths)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(self.norm(x)))


class WithActivation(nn.Module):
    """Export wrapper: logits -> probabilities (sigmoid for one channel, softmax otherwise)."""

    def __init__(self, net: nn.Module, classes: int) -> None:
        super().__init__()
        self.net = net
        self.classes = classes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.net(x)
        return torch.sigmoid(logits) if self.classes == 1 else torch.softmax(logits, 1)


def n_params(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


class BurnUNet(nn.Module):
    """Early-fusion U-Net on gain-invariant burn features of [pre NIR, pre SWIR2, post NIR, post SWIR2].

    Features: log-ratios post/pre of NIR and SWIR2, NBR before and after, dNBR. The ratios make
    the model indifferent to a per-band gain (calibration, illumination) shared by both dates.
    """

    def __init__(self, widths: tuple[int, ...] = (8, 16, 32)) -> None:
        super().__init__()
        self.encoder = Encoder(5, widths)
        self.decoder = Decoder(widths, widths)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.nan_to_num(x, nan=0.0).clamp(min=1e-3)
        pre_n, pre_s, post_n, post_s = x[:, 0:1], x[:, 1:2], x[:, 2:3], x[:, 3:4]
        nbr_pre = (pre_n - pre_s) / (pre_n + pre_s)
        nbr_post = (post_n - post_s) / (post_n + post_s)
        feats = torch.cat(
            [
                3.0 * torch.log(post_n / pre_n),
                3.0 * torch.log(post_s / pre_s),
                2.0 * nbr_pre,
                2.0 * nbr_post,
                4.0 * (nbr_pre - nbr_post),
            ],
            1,
        )
        return self.decoder(self.encoder(feats))


class LandslideNet(nn.Module):
    """U-Net on landslide features of [t1 6 bands, t2 6 bands, slope_deg] (S2 B02 B03 B04 B08 B11 B12).

    Features: log-ratios t2/t1 per band (gain-invariant change), both dates standardised, NDVI
    before and after and its drop, and the slope scaled to ~1 at 30 degrees.
    """

    def __init__(self, widths: tuple[int, ...], mean: list[float], std: list[float]) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1))
        self.encoder = Encoder(22, widths)
        self.decoder = Decoder(widths, widths)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.nan_to_num(x, nan=0.0)
        t1, t2 = x[:, 0:6].clamp(min=1e-3), x[:, 6:12].clamp(min=1e-3)
        slope = x[:, 12:13]
        ndvi1 = (t1[:, 3:4] - t1[:, 2:3]) / (t1[:, 3:4] + t1[:, 2:3])
        ndvi2 = (t2[:, 3:4] - t2[:, 2:3]) / (t2[:, 3:4] + t2[:, 2:3])
        feats = torch.cat(
            [
                3.0 * torch.log(t2 / t1),
                (t1 - self.mean) / self.std,
                (t2 - self.mean) / self.std,
                2.0 * ndvi1,
                2.0 * ndvi2,
                4.0 * (ndvi1 - ndvi2),
                slope / 30.0,
            ],
            1,
        )
        return self.decoder(self.encoder(feats))
