//go:build !unix

package cdb

import (
	"errors"
	"os"
)

func mapFile(*os.File, os.FileInfo) ([]byte, func() error, error) {
	return nil, nil, errors.New("no mmap here")
}
