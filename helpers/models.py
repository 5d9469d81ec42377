"""Chapter 1's digit classifier, shared with its bonus notebook, which compares deeper ones with it."""

from torch import nn


class DigitCNN(nn.Module):
    """Two convolution blocks and a small classifier: 28 × 28 digits in, 10 logits out."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, kernel_size=3, padding=1, bias=False),  # 32 × 28 × 28
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 32 × 14 × 14
            nn.Conv2d(32, 64, kernel_size=3, padding=1, bias=False),  # 64 × 14 × 14
            nn.BatchNorm2d(64),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 64 × 7 × 7
        )
        self.classifier = nn.Sequential(
            nn.Dropout(0.3),
            nn.Linear(64 * 7 * 7, 128),
            nn.ReLU(),
            nn.Dropout(0.3),
            nn.Linear(128, 10),
        )

    def forward(self, images):
        features = self.features(images)
        return self.classifier(features.reshape(-1, 64 * 7 * 7))
