"""Model compression: network slimming, distillation, quantisation-aware training."""
