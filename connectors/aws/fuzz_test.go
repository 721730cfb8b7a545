package aws

import (
	"bytes"
	"os"
	"testing"

	inputfile "github.com/steward-oss/steward/connectors/input"
)

func seeds(f *testing.F, files ...string) {
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzAuthorizationDetails is the JSON export family: any bytes given as
// `aws iam get-account-authorization-details` output are refused or built
// into a graph, never a panic.
func FuzzAuthorizationDetails(f *testing.F) {
	seeds(f, "testdata/authz-details.json", "testdata/authz-details-array.json", "testdata/authz-details-paged.json", "testdata/bad-truncated.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		data, err := inputfile.Check("fuzz.json", data, inputfile.JSON)
		if err != nil {
			return
		}
		pages, err := decodeAuthzDetails(bytes.NewReader(data), "fuzz.json")
		if err != nil {
			return
		}
		_, _ = build(&input{details: mergePages(pages), detailsName: "fuzz.json"})
	})
}

// FuzzCredentialReport is the CSV family: the IAM credential report.
func FuzzCredentialReport(f *testing.F) {
	seeds(f, "testdata/credential-report.csv", "testdata/bad-row.csv", "testdata/bad-header.csv")
	f.Fuzz(func(t *testing.T, data []byte) {
		data, err := inputfile.Check("fuzz.csv", data, inputfile.CSVUnterminated)
		if err != nil {
			return
		}
		rows, err := parseCredentialReport(bytes.NewReader(data), "fuzz.csv")
		if err != nil {
			return
		}
		_, _ = build(&input{report: rows, reportName: "fuzz.csv"})
	})
}
