package config

// The configuration reference in docs/configuration.md is generated from
// config.yaml, the documented default, so the two cannot drift
// (TestConfigurationReferenceIsGenerated).
//go:generate go run ./internal/gendocs ../config.yaml ../docs/configuration.md
