"""Human review: decisions and their validation, filing videos by decision, the sensor's queue, the review page."""
