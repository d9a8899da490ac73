// Package reliability holds no code, only tests: the fault-injection suite
// that runs the real idgate binary against a test IdP and real redis-server
// processes and breaks them under load, the race-detector soak
// (IDGATE_SOAK=1) and fuzz targets across packages. RELIABILITY.md lists
// what each test proves.
package reliability
