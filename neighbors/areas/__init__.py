"""Areas: district → street (subdistrict) → community → grid."""
