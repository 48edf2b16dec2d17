"""Mutual aid: micro-wishes (微心愿) claimed by volunteers, volunteer points (爱心积分) earned from
confirmed service, and the community's love supermarket (爱心超市) where points buy goods."""
