package directory_test

import (
	"testing"

	"courtmesh/directory"
)

func TestMemoryContract(t *testing.T) {
	t.Parallel()
	contract(t, func(*testing.T) directory.Directory { return directory.NewMemory() })
}

func TestMemoryStoreContract(t *testing.T) {
	t.Parallel()
	storeContract(t, func(*testing.T) directory.Store { return directory.NewMemory() })
}
