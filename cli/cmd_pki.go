package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"courtmesh/mesh/pki"
)

func newCACmd() *cobra.Command {
	ca := &cobra.Command{Use: "ca", Short: "Manage the cluster CA of the mesh"}
	var dir string
	create := &cobra.Command{
		Use:   "create --dir <dir>",
		Short: "Create a cluster CA (ca.pem, ca-key.pem)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return usagef("--dir is required")
			}
			if err := pki.NewCA(dir); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "cluster CA written to %s\n", dir)
			return nil
		},
	}
	create.Flags().StringVar(&dir, "dir", "", "directory to write the CA into")
	ca.AddCommand(create)
	return ca
}

func newCertCmd() *cobra.Command {
	cert := &cobra.Command{Use: "cert", Short: "Manage node certificates"}
	var (
		caDir, node, out string
		hosts            []string
	)
	create := &cobra.Command{
		Use:   "create --ca-dir <dir> --node <id> --out <dir>",
		Short: "Issue a node certificate signed by the cluster CA",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if caDir == "" || node == "" || out == "" {
				return usagef("--ca-dir, --node and --out are required")
			}
			if err := pki.IssueNode(caDir, node, out, hosts); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "certificate for %s written to %s\n", node, out)
			return nil
		},
	}
	create.Flags().StringVar(&caDir, "ca-dir", "", "directory of the cluster CA")
	create.Flags().StringVar(&node, "node", "", "node id (certificate subject)")
	create.Flags().StringVar(&out, "out", "", "directory to write node.pem, node-key.pem and ca.pem into")
	create.Flags().StringSliceVar(&hosts, "host", nil, "DNS names or IPs of the node (default 127.0.0.1, localhost)")
	cert.AddCommand(create)
	return cert
}

// NewCourtctlCmd returns the courtctl command tree.
func NewCourtctlCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "courtctl",
		Short: "courtmesh operator tool",
	}
	root.AddCommand(newTokenCmd(), newCACmd(), newCertCmd(), newBenchCmd())
	return root
}
