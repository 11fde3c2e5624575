package api

import (
	"context"
	"net/url"

	"github.com/provision/provision/registry"
)

// Users lists the users by name.
func (c *Client) Users(ctx context.Context) ([]registry.User, error) {
	var out []registry.User
	return out, c.Do(ctx, "GET", Path("users"), nil, &out)
}

// User reads one user.
func (c *Client) User(ctx context.Context, name string) (*registry.User, error) {
	var out registry.User
	return &out, c.Do(ctx, "GET", Path("users", name), nil, &out)
}

// AddUser adds a user and answers it as stored.
func (c *Client) AddUser(ctx context.Context, in UserInput) (*registry.User, error) {
	var out registry.User
	return &out, c.Do(ctx, "POST", Path("users"), in, &out)
}

// EditUser replaces user name's role, scopes and full name.
func (c *Client) EditUser(ctx context.Context, name string, in UserInput) (*registry.User, error) {
	var out registry.User
	return &out, c.Do(ctx, "PUT", Path("users", name), in, &out)
}

// RemoveUser removes a user with their tokens.
func (c *Client) RemoveUser(ctx context.Context, name string) error {
	return c.Do(ctx, "DELETE", Path("users", name), nil, nil)
}

// Tokens lists user's tokens ("": everyone's), never the tokens.
func (c *Client) Tokens(ctx context.Context, user string) ([]registry.Token, error) {
	var out []registry.Token
	path := Path("tokens")
	if user != "" {
		path += "?user=" + url.QueryEscape(user)
	}
	return out, c.Do(ctx, "GET", path, nil, &out)
}

// CreateToken makes a token: the answer is the only time it is shown.
func (c *Client) CreateToken(ctx context.Context, in TokenInput) (*NewToken, error) {
	var out NewToken
	return &out, c.Do(ctx, "POST", Path("tokens"), in, &out)
}

// RevokeToken revokes the token id.
func (c *Client) RevokeToken(ctx context.Context, id string) (*registry.Token, error) {
	var out registry.Token
	return &out, c.Do(ctx, "DELETE", Path("tokens", id), nil, &out)
}

// RevokeTokens revokes every token of user.
func (c *Client) RevokeTokens(ctx context.Context, user string) (*TokensRevoked, error) {
	var out TokensRevoked
	return &out, c.Do(ctx, "DELETE", Path("tokens")+"?user="+url.QueryEscape(user), nil, &out)
}

// Login signs user in with the directory's password: the answer holds a
// short-lived token of theirs.
func (c *Client) Login(ctx context.Context, user, password string) (*LoginAnswer, error) {
	var out LoginAnswer
	return &out, c.Do(ctx, "POST", Path("login"), LoginInput{User: user, Password: password}, &out)
}
