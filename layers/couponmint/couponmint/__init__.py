"""couponmint: BigCommerce-compatible bulk coupon code generation."""
