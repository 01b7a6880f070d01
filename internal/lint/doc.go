// Package lint holds tests that check the whole module against the house
// style: every package has a doc comment, no line is wider than 120 columns.
package lint
