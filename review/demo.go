package review

import (
	"embed"
	"fmt"
)

//go:embed campaigns/*.yaml
var campaignFS embed.FS

// DemoCampaignFile is the embedded campaign the demo ships.
const DemoCampaignFile = "campaigns/demo-quarterly.yaml"

// DemoCampaign returns the demo organisation's quarterly campaign.
func DemoCampaign() (*Campaign, error) {
	b, err := campaignFS.ReadFile(DemoCampaignFile)
	if err != nil {
		return nil, fmt.Errorf("review: demo campaign: %w", err)
	}
	return ParseCampaign(DemoCampaignFile, b)
}
