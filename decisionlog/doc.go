// Package decisionlog records authorization decisions: the decision
// metrics and one log line per decision. The app builds one Recorder and
// gives it to every front end (extauthz, forwardauth), so a decision is
// reported alike whichever way it came in.
package decisionlog
