// Package ext stands in for Traefik's github.com/traefik/traefik/dynamic/ext,
// a nested module that Traefik's go.mod replaces with a folder its module
// zip does not carry (and the Go module proxy does not serve). In Traefik's
// open-source build these extension points are empty structs, as here.
package ext

// HTTP is a dynamic.HTTP extension.
type HTTP struct{}

// Router is a dynamic.Router extension.
type Router struct{}

// RouterIng is a RouterIng extension for ingress provider annotations.
type RouterIng struct{}

// ToRouter converts RouterIng to a Router.
func (r RouterIng) ToRouter() Router { return Router{} }
