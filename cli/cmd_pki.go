package cli

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"courtmesh/directory"
	"courtmesh/mesh/pki"
	"courtmesh/mesh/wire"
	"courtmesh/regions"
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
	cert := &cobra.Command{Use: "cert", Short: "Issue, renew and revoke node and operator certificates"}
	cert.AddCommand(newCertCreateCmd(), newCertRenewCmd(), newCertRevokeCmd(true), newCertRevokeCmd(false), newCertRevokedCmd())
	return cert
}

func newCertCreateCmd() *cobra.Command {
	var (
		caDir, node, role, region, name, out string
		operator, force                      bool
		hosts                                []string
		validity                             time.Duration
	)
	create := &cobra.Command{
		Use:   "create --ca-dir DIR --out DIR (--node ID --role edge|home --region R | --operator --name NAME)",
		Short: "Issue a node or operator certificate signed by the cluster CA",
		Long: `create issues a certificate signed by the cluster CA in --ca-dir, with a new
key, into --out. A node certificate names the node's id, role and region: a
node refuses to start with a certificate that is not its own, and its mesh
peers check its hello against it. An operator certificate (--operator) names
an operator: only operators may administer the nodes, and operators never join
the mesh. An existing key is not overwritten without --force; to extend a
certificate, use "courtctl cert renew".`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if caDir == "" || out == "" {
				return usagef("--ca-dir and --out are required")
			}
			c, err := certClaims(operator, node, name, role, region)
			if err != nil {
				return err
			}
			if err := pki.Issue(caDir, c, out, pki.IssueOptions{Hosts: hosts, Validity: validity, Force: force}); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "certificate for %s written to %s (valid %s)\n", c, out, validityText(validity))
			return nil
		},
	}
	f := create.Flags()
	f.StringVar(&caDir, "ca-dir", "", "directory of the cluster CA")
	f.StringVar(&out, "out", "", "directory to write the certificate, its key and ca.pem into")
	f.StringVar(&node, "node", "", "node id (certificate subject)")
	f.StringVar(&role, "role", "", "role of the node: edge or home")
	f.StringVar(&region, "region", "", "region of the node, from regions/regions.json")
	f.BoolVar(&operator, "operator", false, "issue an operator certificate (with --name) instead of a node's")
	f.StringVar(&name, "name", "", "operator name (with --operator)")
	f.StringSliceVar(&hosts, "host", nil, "DNS names or IPs of the node (default 127.0.0.1, localhost)")
	f.DurationVar(&validity, "validity", pki.DefaultValidity, "how long the certificate is valid")
	f.BoolVar(&force, "force", false, "replace an existing key in --out")
	return create
}

// certClaims checks the flags of cert create and returns the claims they
// ask for.
func certClaims(operator bool, node, name, role, region string) (pki.Claims, error) {
	if operator {
		if name == "" {
			return pki.Claims{}, usagef("--operator needs --name NAME")
		}
		if node != "" || role != "" || region != "" {
			return pki.Claims{}, usagef("--operator takes --name only (not --node, --role or --region)")
		}
		if !pki.ValidNodeID(name) {
			return pki.Claims{}, usagef("invalid operator name %q: 1 to 128 letters, digits, '.', '_' or '-'", name)
		}
		return pki.Claims{ID: name, Role: pki.RoleOperator}, nil
	}
	if node == "" || role == "" || region == "" || name != "" {
		return pki.Claims{}, usagef("a node certificate needs --node, --role and --region (or use --operator --name NAME)")
	}
	if role != string(wire.RoleEdge) && role != string(wire.RoleHome) {
		return pki.Claims{}, usagef("--role %q: want edge or home", role)
	}
	if _, ok := regions.Default().Lookup(region); !ok {
		return pki.Claims{}, usagef("unknown region %q (see regions/regions.json)", region)
	}
	if !pki.ValidNodeID(node) {
		return pki.Claims{}, usagef("invalid node id %q: 1 to 128 letters, digits, '.', '_' or '-'", node)
	}
	return pki.Claims{ID: node, Role: wire.Role(role), Region: region}, nil
}

func validityText(d time.Duration) string {
	if d <= 0 {
		d = pki.DefaultValidity
	}
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	}
	return d.String()
}

func newCertRenewCmd() *cobra.Command {
	var (
		caDir, dir string
		validity   time.Duration
	)
	renew := &cobra.Command{
		Use:   "renew --ca-dir DIR --dir DIR",
		Short: "Sign a node's or operator's certificate again, with the same key and claims",
		Long: `renew replaces the certificate in --dir (node.pem or operator.pem) with a new
one from the CA in --ca-dir: same key, id, role and region, valid for
--validity from now. A running node picks the new certificate up within
seconds, without a restart.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if caDir == "" || dir == "" {
				return usagef("--ca-dir and --dir are required")
			}
			c, err := pki.Renew(caDir, dir, validity)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "certificate for %s in %s renewed (valid %s)\n", c, dir, validityText(validity))
			return nil
		},
	}
	renew.Flags().StringVar(&caDir, "ca-dir", "", "directory of the cluster CA")
	renew.Flags().StringVar(&dir, "dir", "", "directory of the certificate to renew")
	renew.Flags().DurationVar(&validity, "validity", pki.DefaultValidity, "how long the renewed certificate is valid")
	return renew
}

// newCertRevokeCmd returns "cert revoke NODE" (revoke true) or "cert
// unrevoke NODE".
func newCertRevokeCmd(revoke bool) *cobra.Command {
	use, short := "revoke NODE", "Revoke a node id: every node refuses it and cuts its links within seconds"
	if !revoke {
		use, short = "unrevoke NODE", "Take a node id off the revocation list"
	}
	return &cobra.Command{
		Use:   use,
		Short: short,
		Long: short + `. The list is kept in Redis
(REDIS_URL, under COURT_REDIS_PREFIX), which every node reads at each mesh
handshake and every few seconds.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			list, closeFn, err := openRevocations()
			if err != nil {
				return err
			}
			defer closeFn()
			verb := "revoked"
			if revoke {
				err = list.RevokeNode(cmd.Context(), args[0])
			} else {
				verb = "unrevoked"
				err = list.UnrevokeNode(cmd.Context(), args[0])
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "node %s %s\n", args[0], verb)
			return nil
		},
	}
}

func newCertRevokedCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "revoked [-o table|json]",
		Short: "List the revoked node ids",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output, "table", "json"); err != nil {
				return err
			}
			list, closeFn, err := openRevocations()
			if err != nil {
				return err
			}
			defer closeFn()
			ids, err := list.RevokedNodes(cmd.Context())
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if output == "json" {
				return json.NewEncoder(w).Encode(map[string][]string{"revoked": ids})
			}
			for _, id := range ids {
				fmt.Fprintln(w, id)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table or json")
	return cmd
}

// openRevocations opens the cluster's revocation list in Redis.
func openRevocations() (directory.Revocations, func(), error) {
	dir, _, closeFn, err := openDirectory(false)
	if err != nil {
		return nil, nil, usageError{err}
	}
	return dir, closeFn, nil
}

// NewCourtctlCmd returns the courtctl command tree.
func NewCourtctlCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "courtctl",
		Short: "courtmesh operator tool",
		Long: `courtctl operates a courtmesh cluster. It finds the cluster from REDIS_URL and
COURT_REDIS_PREFIX (and DATABASE_URL for sessions), and authenticates admin
calls with the operator certificate in --tls-dir or COURTCTL_TLS_DIR.`,
		Version: buildVersion(),
	}
	root.AddCommand(newTokenCmd(), newCACmd(), newCertCmd(), newOutboxCmd(), newBenchCmd(),
		newStatusCmd(), newDrainCmd(), newUndrainCmd(), newSessionsCmd(), newMoveCmd(), newVersionCmd("courtctl"))
	return root
}
