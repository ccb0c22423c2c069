use crate::text::text_enum;

pub use crate::UnknownValue as UnknownEngine;

text_enum! {
    /// The store types Storefleet knows, and whether this installation creates them.
    #[derive(
        Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
    )]
    #[serde(rename_all = "lowercase")]
    pub enum Engine("store type") {
        WooCommerce = "woocommerce",
        Medusa = "medusa",
    }
}

impl Engine {
    pub fn description(self) -> &'static str {
        match self {
            Engine::WooCommerce => "WordPress with WooCommerce and MySQL",
            Engine::Medusa => "Medusa (declared; provisioning is not built yet)",
        }
    }

    /// The name people know the engine by (the tenant's sentences).
    pub fn display_name(self) -> &'static str {
        match self {
            Engine::WooCommerce => "WooCommerce",
            Engine::Medusa => "Medusa",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_text_agree() {
        for engine in Engine::ALL {
            let json = serde_json::to_value(engine).unwrap();
            assert_eq!(json, serde_json::json!(engine.as_str()));
            assert_eq!(serde_json::from_value::<Engine>(json).unwrap(), engine);
            assert_eq!(engine.as_str().parse::<Engine>(), Ok(engine));
        }
        assert_eq!(
            "shopify".parse::<Engine>().unwrap_err().to_string(),
            "unknown store type \"shopify\" (known: woocommerce, medusa)"
        );
    }
}
