// Package config loads, defaults and validates idgate's configuration: a YAML
// file plus IDGATE_* environment overrides, decoded with viper into [Config].
// Every problem is reported once, at start-up, with the key it concerns.
package config
